// The portal's service worker: registered on every portal page so that an installed portal
// (home screen) receives Web Push; it caches nothing.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/portal/sw.js", { scope: "/portal/" }).catch(() => {});
}
