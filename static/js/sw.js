// The portal's service worker (served as /portal/sw.js, scope /portal/): shows a Web Push
// notification and opens its page when tapped. The payload (decrypted by the browser) is
// {title, body, url, tag}; only relative portal URLs are opened.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function portalUrl(url) {
  const target = new URL(url || "/portal/", self.location.origin);
  if (target.origin !== self.location.origin || !target.pathname.startsWith("/portal/")) {
    return new URL("/portal/", self.location.origin).href;
  }
  return target.href;
}
self.portalUrl = portalUrl;

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = data.title || "ediary";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      tag: data.tag,
      data: { url: portalUrl(data.url) },
      icon: "/static/icons/icon-192.png",
      badge: "/static/icons/icon-192.png",
    }),
  );
});

async function openPage(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (client.url === url && "focus" in client) return client.focus();
  }
  return self.clients.openWindow(url);
}
self.openPage = openPage;

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openPage(portalUrl(event.notification.data && event.notification.data.url)));
});
