// inbox.js: the inbox and a thread, kept live. A `message.received` or `message.read` event
// (static/js/live.js) makes the page fetch itself again and swap its live part: the server
// decides what this person sees. Opening a thread marks it read, so a thread page does not
// refetch for its own receipts in a loop: it refetches on another person's event only.
import { startLive } from "./live.js";

const MESSAGE_EVENTS = new Set(["message.received", "message.read"]);
let timer = null;

async function refresh() {
  const part = document.querySelector("[data-live-part]");
  if (!part) return;
  const response = await fetch(window.location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.querySelector("[data-live-part]");
  if (fresh) part.replaceWith(fresh);
}

function onEvent(event) {
  if (!MESSAGE_EVENTS.has(event.type)) return;
  clearTimeout(timer);
  timer = setTimeout(refresh, 200);
}

if (document.getElementById("live-status")) startLive({ onEvent });
