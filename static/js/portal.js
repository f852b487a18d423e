// portal.js: the parents' pages, kept live. Pushed journal events (static/js/live.js) show a
// toast and refresh the part of the page they affect, fetched fresh from the server (the page's
// own route, so the server decides what this parent may see). Nothing is stored in the browser
// except live.js's last event id. No framework.
import { startLive } from "./live.js";

const body = document.body;
const words = document.getElementById("live-words")?.dataset ?? {};
const toasts = document.getElementById("toasts");

function childName(pupilId) {
  const link = document.querySelector(`.children a[data-child="${pupilId}"]`);
  return link ? link.textContent.trim() : "";
}

function label(event) {
  switch (event.type) {
    case "attendance.recorded": return `${words.attendance}: ${event.name}`;
    case "grade.added": return `${words.grade}: ${event.value ?? "…"}`;
    case "grade.changed": return `${words.gradeChanged}: ${event.value ?? "…"}`;
    case "grade.removed": return words.gradeRemoved;
    case "grade.proposed": return `${words.proposed}: ${event.value ?? event.descriptive ?? "—"}`;
    case "remark.added": return words.remark;
    case "remark.changed": return words.remarkChanged;
    case "lesson.topic": return `${words.topic}: ${event.topic}`;
    case "lesson.cancelled": return words.cancelled;
    case "lesson.substituted":
      return event.merged
        ? `${words.merged}: ${event.merged_with}`
        : `${words.substituted}: ${event.teacher}`;
    case "timetable.changed": return words.timetableChanged;
    case "homework.changed": return `${words.homework}: ${event.subject} ${event.date}`;
    case "excuse.requested":
    case "excuse.decided": return `${words.excuse}: ${words[event.status] ?? event.status}`;
    case "behaviour.graded": return `${words.behaviour}: ${event.name}`;
    case "message.received": return `${words.message}: ${event.sender}`;
    case "announcement.published": return `${words.announcement}: ${event.title}`;
    default: return null;
  }
}

function toast(text) {
  if (!toasts || !text) return;
  const item = document.createElement("div");
  item.className = "toast";
  const message = document.createElement("span");
  message.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.setAttribute("aria-label", words.close ?? "×");
  close.addEventListener("click", () => item.remove());
  item.append(message, close);
  toasts.append(item);
  setTimeout(() => item.remove(), 8000);
}

// Several events in a burst (a whole roll) cost one fetch of the page.
let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 250);
}

async function refresh() {
  let response;
  try {
    response = await fetch(window.location.href, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
      cache: "no-store",
    });
  } catch {
    return; // offline: the resume after reconnecting brings the events again
  }
  if (!response.ok || response.redirected) {
    window.location.reload(); // the session ended or the page is gone: show what the server says
    return;
  }
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const part of fresh.querySelectorAll("[data-part]")) {
    const current = document.querySelector(`[data-part="${part.dataset.part}"]`);
    if (!current || current.innerHTML === part.innerHTML) continue;
    current.replaceWith(part);
    part.classList.add("updated");
    setTimeout(() => part.classList.remove("updated"), 2500);
  }
}

// A group's test or homework (a language group) is news only for the group's pupils: the week
// page names the child's groups; elsewhere such an event shows no toast.
function forThisChild(event) {
  if (event.type !== "homework.changed" || event.group_id === null) return true;
  const groups = document.querySelector("[data-groups]")?.dataset.groups.split(" ") ?? [];
  return groups.includes(String(event.group_id));
}

function onEvent(event) {
  const here = body.dataset.pupil;
  const mine = (event.pupil_id !== undefined && String(event.pupil_id) === here)
    || (event.class_id !== undefined && String(event.class_id) === body.dataset.class);
  const who = event.pupil_id !== undefined ? childName(event.pupil_id) : "";
  const text = forThisChild(event) ? label(event) : null;
  if (text) toast(who ? `${who} · ${text}` : text);
  if (event.type === "message.received") showUnread(event.unread);
  if (mine) refreshSoon();
}

// The inbox link's badge (templates/portal/base.html): the number the event carries.
function showUnread(count) {
  const link = document.querySelector("[data-inbox]");
  if (!link) return;
  let badge = link.querySelector(".badge");
  if (!badge) {
    badge = document.createElement("span");
    badge.className = "badge";
    link.append(" ", badge);
  }
  badge.textContent = String(count);
  badge.hidden = !count;
}

// A photo of a note bigger than the server takes is shrunk here first (phones shoot 3-8 MB).
async function shrink(file, limit) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  for (const quality of [0.85, 0.7, 0.5]) {
    const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", quality));
    if (blob && blob.size <= limit) return new File([blob], "note.jpg", { type: "image/jpeg" });
  }
  return file;
}

// A note still over the limit (a PDF, or a photo that would not shrink) is never sent: the
// message next to the input says so, and the typed reason stays where it is.
for (const form of document.querySelectorAll("form[data-note-limit]")) {
  const input = form.querySelector('input[type="file"]');
  const error = form.querySelector("#note-error");
  const limit = Number(form.dataset.noteLimit);
  const tooBig = () => (input?.files?.[0]?.size ?? 0) > limit;
  const showSize = () => {
    if (!error) return;
    const file = input?.files?.[0];
    error.hidden = !tooBig();
    input?.setAttribute("aria-invalid", tooBig() ? "true" : "false");
    if (tooBig() && file) {
      const megabytes = (file.size / 1_000_000).toLocaleString(document.documentElement.lang, {
        maximumFractionDigits: 1,
      });
      error.textContent = error.dataset.message.replace("{size}", megabytes);
    }
  };
  input?.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (file && file.size > limit && file.type.startsWith("image/")) {
      try {
        const smaller = await shrink(file, limit);
        const transfer = new DataTransfer();
        transfer.items.add(smaller);
        input.files = transfer.files;
      } catch {
        // Not an image the browser can draw: the size check below refuses it.
      }
    }
    showSize();
  });
  form.addEventListener("submit", (event) => {
    if (!tooBig()) return;
    event.preventDefault();
    showSize();
    input.focus();
  });
}

if (document.getElementById("live-status")) startLive({ onEvent });

// The portal's service worker (Web Push, static/js/sw.js): registered on every portal page so
// that the portal installed on a home screen receives notifications. It caches nothing.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/portal/sw.js", { scope: "/portal/" }).catch(() => {});
}
