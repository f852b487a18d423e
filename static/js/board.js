// board.js: keeps the gmina's 8:15 board current without a reload (docs/protocol.md, "board").
// The /live socket of a district administrator carries no events, only `board` signals
// ({school_id}: that school's figures changed); the board then reads its figures again over
// HTTP, at most once per half second, and at least once a minute (bells ring, kiosks go quiet).
import { startLive } from "./live.js";

const page = document.querySelector(".board-page");
const target = document.getElementById("board");
const url = page.dataset.boardUrl;
const every = (Number.parseInt(page.dataset.refresh, 10) || 60) * 1000;

let timer = null;
let busy = false;
let again = false;

async function refresh() {
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  try {
    const response = await fetch(url, { credentials: "same-origin", redirect: "manual" });
    if (response.ok) {
      target.innerHTML = await response.text();
      page.dataset.updated = String(Date.now());
    } else if (response.type === "opaqueredirect" || response.status === 404) {
      window.location.reload(); // the session ended: the login page
    }
  } catch {
    // Offline for a moment: the next signal or the minute's refresh tries again.
  } finally {
    busy = false;
    if (again) {
      again = false;
      schedule(0);
    }
  }
}

function schedule(delay) {
  if (timer !== null) return;
  timer = setTimeout(() => {
    timer = null;
    refresh();
  }, delay);
}

const live = startLive({ lastId: null, storage: window.sessionStorage });
live.socket.on("board", () => schedule(500));
live.socket.on("connect", () => schedule(0)); // after an outage, read what was missed
setInterval(() => schedule(0), every);
