// Web Push on the notification settings page: switch on this device (permission, subscribe with
// the server's VAPID key, POST the subscription with the CSRF token), or switch it off.
const box = document.getElementById("push");
const status = document.getElementById("push-status");
const on = document.getElementById("push-on");
const off = document.getElementById("push-off");

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function b64(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function post(url, fields) {
  const form = new FormData();
  form.set("csrf_token", box.dataset.csrf);
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  return fetch(url, { method: "POST", body: form, credentials: "same-origin",
                      headers: { Accept: "application/json" } });
}

async function registration() {
  return navigator.serviceWorker.register(box.dataset.sw, { scope: "/portal/" });
}

async function switchOn() {
  status.textContent = "";
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    status.textContent = box.dataset.unsupported;
    return;
  }
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    status.textContent = box.dataset.denied;
    return;
  }
  try {
    const reg = await registration();
    await navigator.serviceWorker.ready;
    const sub = await reg.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(box.dataset.key),
    });
    const answer = await post(box.dataset.subscribe, {
      endpoint: sub.endpoint,
      p256dh: b64(sub.getKey("p256dh")),
      auth: b64(sub.getKey("auth")),
    });
    if (!answer.ok) {
      const body = await answer.json().catch(() => ({}));
      status.textContent = body.message || box.dataset.failed;
      return;
    }
    location.reload();
  } catch {
    status.textContent = box.dataset.failed;
  }
}

async function switchOff() {
  const reg = await navigator.serviceWorker.getRegistration("/portal/");
  const sub = reg && (await reg.pushManager.getSubscription());
  if (sub) {
    await post(box.dataset.off, { endpoint: sub.endpoint });
    await sub.unsubscribe();
  }
  location.reload();
}

async function show() {
  if (!("serviceWorker" in navigator)) return;
  const reg = await navigator.serviceWorker.getRegistration("/portal/");
  const sub = reg && reg.pushManager && (await reg.pushManager.getSubscription());
  off.hidden = !sub;
}

if (on) {
  on.addEventListener("click", switchOn);
  off.addEventListener("click", switchOff);
  show();
}
