// live.js: keeps a parent's (or staff member's) page up to date over the /live namespace.
// The wire protocol is docs/protocol.md. No framework: one module, one socket, one page hook.
//
// The Socket.IO client is served by this server from static/vendor/ (no CDN):
// socket.io-client 4.8.4, MIT licence, the npm registry package's dist build (see its README).
import { io } from "../vendor/socket.io.esm.min.js";

// The only thing kept in the browser: the id of the last event this tab applied. sessionStorage,
// not localStorage: each tab has its own page, so each resumes from what it itself applied.
const KEY = "ediary.live.lastId";

function readStored(storage) {
  try {
    const value = Number.parseInt(storage.getItem(KEY) ?? "", 10);
    return Number.isInteger(value) && value >= 0 ? value : null;
  } catch {
    return null; // storage refused (private mode): resume from the page's own id
  }
}

function writeStored(storage, value) {
  try {
    if (value === null) storage.removeItem(KEY);
    else storage.setItem(KEY, String(value));
  } catch {
    // Nothing to do: the in-memory id still serves this page's reconnects.
  }
}

// The journal id the page was rendered at: <meta name="ediary-live-last-id" content="123">.
function readPageHead() {
  const meta = document.querySelector('meta[name="ediary-live-last-id"]');
  const value = meta ? Number.parseInt(meta.content, 10) : Number.NaN;
  return Number.isInteger(value) && value >= 0 ? value : null;
}

function newest(a, b) {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

// The state element shows the words the page gave it (translated on the server):
// <span id="live-status" data-live="Na żywo" data-offline="Brak połączenia"
//       data-connecting="Łączenie…"></span>
function showState(element, state) {
  if (!element) return;
  element.dataset.state = state;
  element.textContent = element.dataset[state] ?? state;
}

// Reconnecting after a server process restarts: thousands of parents lost their socket at the
// same instant. socket.io-client's defaults (1 s, randomization 0.5) bring them all back within
// 0.5-1.5 s, a storm; these spread the first attempt over 0-5 s (delay 2.5 s, randomization 1:
// from 0 to twice the delay), then back off doubling up to 10 s (as the kiosks do: a phone is
// back within seconds of a server's return, and a refused attempt costs nginx next to nothing).
// A resume that missed nothing costs the server no journal query (docs/protocol.md).
export const RECONNECTION = Object.freeze({
  reconnectionDelay: 2500,
  reconnectionDelayMax: 10000,
  randomizationFactor: 1,
});

/**
 * Connects to /live and calls `onEvent(event)` once per journal event, in id order.
 *
 * options: onEvent(event), onState(state) with state "connecting" | "live" | "offline",
 * lastId (default: the page's meta tag), statusElement (default: #live-status),
 * storage (default: sessionStorage), reload(reason) (default: reload the page).
 */
export function startLive(options = {}) {
  const onEvent = options.onEvent ?? (() => {});
  const onState = options.onState ?? (() => {});
  const storage = options.storage ?? window.sessionStorage;
  const statusElement = options.statusElement ?? document.getElementById("live-status");
  const reload = options.reload ?? (() => window.location.reload());

  // The page's snapshot includes every event up to its head; the tab may have applied more.
  let lastId = newest(readStored(storage), options.lastId ?? readPageHead());

  const setState = (state) => {
    showState(statusElement, state);
    onState(state);
  };
  const applied = (id) => {
    lastId = newest(lastId, id);
    writeStored(storage, lastId);
  };

  const socket = io("/live", {
    transports: ["websocket"],
    withCredentials: true,
    ...RECONNECTION,
  });
  setState("connecting");

  // Every (re)connect says where this tab stands; the server replays the rest, then streams.
  const resume = () => {
    socket.emit("resume", { last_id: lastId }, (ack) => {
      if (ack && ack.ok) {
        applied(ack.last_id);
        setState("live");
      } else if (ack && ack.retry) {
        setState("offline"); // the server could not read the journal just now
        setTimeout(() => socket.connected && resume(), 3000);
      } else if (!ack || ack.error !== "reload") {
        setState("offline"); // a "reload" instruction follows as its own message
      }
    });
  };
  socket.on("connect", () => {
    setState("connecting");
    resume();
  });

  socket.on("event", (event) => {
    if (lastId !== null && event.id <= lastId) return; // already applied: ids only grow
    onEvent(event);
    applied(event.id);
  });

  // The gap is older than the journal keeps, the session ended, or what the person may see
  // changed: the page loads a fresh snapshot (or the login page) and starts over from it.
  socket.on("reload", (message) => {
    writeStored(storage, null);
    setState("offline");
    socket.disconnect();
    reload(message && message.reason);
  });

  socket.on("disconnect", () => setState("offline"));
  socket.on("connect_error", (error) => {
    setState("offline");
    if (error && error.data && error.data.error === "unauthenticated") {
      writeStored(storage, null);
      reload("unauthenticated"); // the login page
    }
  });

  return {
    socket,
    get lastId() {
      return lastId;
    },
    close() {
      socket.disconnect();
    },
  };
}
