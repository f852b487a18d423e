"""The simulated people: kiosks built from the kiosk agent's own outbox, sender and connection,
and parents on /live who log in over HTTP and resume from the last event they applied.

All run as greenlets in the harness's process (gevent, monkey-patched by __main__, so the agent's
threads are greenlets too). Every failure (a refused connect, a timeout, a dropped socket) leads
to a fresh connection after a pause, never to a dropped entry or a skipped event.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import requests
import socketio
import urllib3

from kiosk import credential as credentials
from kiosk import protocol
from kiosk.__main__ import enroll
from kiosk.config import Config
from kiosk.connection import Connection
from kiosk.outbox import Entry as OutboxEntry
from kiosk.outbox import Outbox, Outcome, Sender, State, Unavailable

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # our throwaway cert


@dataclass
class Entry:
    """The harness's own record of one entry: when it went out and what came back. The entry
    itself lives in the kiosk's outbox (the source of truth for "acknowledged")."""

    key: str
    kind: str
    marker: str  # a remark's text, unique: duplicated rows are counted by it
    created: float
    first_sent: float | None = None
    last_sent: float | None = None  # the attempt whose acknowledgement came
    acked: float | None = None
    status: str = "saved"  # saved -> acked (applied|duplicate) or parked
    ack_status: str | None = None
    event_ids: list[int] = field(default_factory=list)
    attempts: int = 0
    refusal: str | None = None


LOGIN_ATTEMPTS = 10


class KioskSim:
    """One classroom computer, made of the kiosk agent's own parts: enrolled with a one-time code
    (`python -m kiosk enroll`), its SQLite outbox (kiosk/outbox.py: every entry on disk with a
    fresh idempotency key before it is sent), the single sender with full-jitter retry, and the
    supervised /kiosk connection (kiosk/connection.py), verifying the server's certificate.
    Only the screens are missing: the teacher logs in once and `add` is a tap on "Zapisz"."""

    def __init__(
        self, info: dict[str, Any], url: str, password: str, state_dir: Path, ca_file: str
    ) -> None:
        self.info = info
        self.password = password
        self.timing: dict[str, Entry] = {}  # key -> the harness's record, in making order
        self.token: str | None = None
        self.teacher_id: int | None = None
        self.logged_in = gevent.event.Event()
        self.logging_in = False  # one login at a time, however often the link comes back
        self.connects = 0
        self.errors: dict[str, int] = {}
        state_dir = state_dir / f"kiosk-{info['id']}"
        state_dir.mkdir(parents=True)
        self.outbox = Outbox(state_dir / "outbox.sqlite")
        config = Config(server=url, state_dir=state_dir, ca_file=ca_file)
        # Enrolled as a classroom computer is: `python -m kiosk enroll` with the one-time code
        # (its report on stdout silenced by the caller: a redirection here, by greenlets
        # enrolling side by side, would leave sys.stdout on one of their buffers).
        refused = enroll(config, info["code"])
        credential = credentials.load(state_dir)
        if refused or credential is None:
            raise RuntimeError(f"kiosk {info['id']} could not enroll (exit {refused})")
        self.connection = Connection(
            config,
            lambda: credential,
            auth=protocol.auth,
            is_revocation=protocol.is_revocation,
            on_online=self._online,
            on_offline=lambda: None,
            on_revoked=lambda data: self._note(f"revoked:{protocol.refusal_code(data)}"),
            on_push=lambda event, data: None,
        )
        self.sender = Sender(
            self.outbox,
            self._send,
            can_send=lambda: self.connection.online,
            retry_max=config.retry_max_seconds,
        )
        self.connection.start()
        self.sender.start()

    @property
    def pending(self) -> int:
        return self.outbox.counts().get(State.SAVED.value, 0)

    def add(self, kind: str, payload: dict[str, Any], marker: str = "") -> Entry:
        assert self.token is not None and self.teacher_id is not None, "the teacher logs in first"
        stored = self.outbox.add(
            kind,
            payload,
            lesson_id=self.info["lesson"],
            teacher_id=self.teacher_id,
            auth={"session": self.token},
        )
        entry = Entry(stored.key, kind, marker, time.monotonic())
        self.timing[entry.key] = entry
        return entry

    def _note(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def _online(self) -> None:
        self.connects += 1
        self.sender.wake()  # as the agent does: the sender waits while offline
        if self.token is None and not self.logging_in:
            self.logging_in = True
            gevent.spawn(self._login)

    def _login(self, attempts: int = LOGIN_ATTEMPTS) -> None:
        """The teacher logs in, and taps "Zaloguj" again a few seconds after a refusal or no
        answer, as a person at the kiosk does (a city's thousand logging in at once overran the
        servers' database pools: one try each left teachers out for the whole drill)."""
        for attempt in range(attempts):
            if attempt:
                gevent.sleep(random.uniform(2.0, 8.0))  # noqa: S311 - a person's pause
            try:
                ack = self.connection.call(
                    protocol.LOGIN, {"login": self.info["teacher"], "password": self.password}
                )
            except Unavailable as error:
                self._note(f"login:{error}")
                continue
            if protocol.refusal(ack) is not None:
                self._note(f"login:{protocol.refusal(ack)}")
                continue
            break
        else:
            self.logging_in = False
            return
        self.token = str(ack["session"])
        self.teacher_id = int(ack["teacher"]["id"])
        # As the agent does: what the old session could not vouch for goes out under this one.
        self.outbox.requeue_for_teacher(self.teacher_id, (protocol.SESSION_ENDED,), self.token)
        self.logged_in.set()

    def _send(self, stored: OutboxEntry) -> Outcome:
        """The agent's `_send_entry`, timed."""
        entry = self.timing[stored.key]
        entry.attempts += 1
        entry.last_sent = time.monotonic()
        entry.first_sent = entry.first_sent or entry.last_sent
        try:
            ack = self.connection.call(
                protocol.SUBMIT, protocol.submission(stored, stored.auth["session"])
            )
        except Unavailable as error:
            self._note(f"submit:{error}")
            raise
        outcome = protocol.outcome(ack)
        if outcome.kind == "synced":
            entry.acked = time.monotonic()
            entry.status = "acked"
            entry.ack_status = ack.get("status")
            entry.event_ids = [int(i) for i in ack.get("event_ids") or []]
        elif outcome.kind == "parked":
            entry.status = "parked"
            entry.refusal = outcome.code
        else:
            self._note(outcome.code)
        return outcome

    def close(self) -> None:
        self.sender.stop()
        self.connection.stop()
        self.outbox.close()


def http_login(url: str, login: str, password: str) -> str:
    """The login form, as a browser fills it: GET for the CSRF token, POST, keep the cookie."""
    with requests.Session() as http:
        http.verify = False
        page = http.get(f"{url}/login", timeout=30, verify=False)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page.text
        )
        if match is None:
            raise RuntimeError("no csrf_token on the login page")
        answer = http.post(
            f"{url}/login",
            data={"csrf_token": match.group(1), "login": login, "password": password},
            headers={"Referer": f"{url}/login", "Origin": url},
            allow_redirects=False,
            verify=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login of {login} answered {answer.status_code}")
        return f"session={http.cookies['session']}"


# static/js/live.js's RECONNECTION, with socket.io-client's backoff: the n-th attempt after
# delay * 2^n, randomised by +-factor (factor 1: anywhere from 0 to twice that), at most the max.
LIVE_DELAY_S, LIVE_DELAY_MAX_S, LIVE_RANDOMIZATION = 2.5, 10.0, 1.0


def reconnection_delay(attempt: int) -> float:
    delay = LIVE_DELAY_S * 2 ** min(attempt, 16)
    deviation = random.random() * LIVE_RANDOMIZATION * delay  # noqa: S311 - jitter
    delay = delay - deviation if random.random() < 0.5 else delay + deviation  # noqa: S311
    return min(delay, LIVE_DELAY_MAX_S)


def first_after(moments: list[float], moment: float) -> float | None:
    """The first of `moments` after `moment` (a parent's resumes: when service was back)."""
    return next((t for t in moments if t > moment), None)


class ParentSim:
    """A parent's phone: /live with the login's cookie; on every (re)connect `resume` from the
    newest id applied; ignores an id not greater than that one (counted as `reoffered`)."""

    def __init__(self, user_id: int, url: str, cookie: str) -> None:
        self.user_id = user_id
        self.url = url
        self.cookie = cookie
        self.last_id: int | None = None
        self.received: dict[int, float] = {}  # event id -> when it was applied
        self.reoffered = 0
        self.reloads: list[str] = []
        self.connects = 0
        self.resumes: list[float] = []  # when each (re)connection had resumed
        self.errors: dict[str, int] = {}
        self.resumed = gevent.event.Event()
        self.stopped = False
        self.sio: socketio.Client | None = None
        self.greenlet = gevent.spawn(self._run)

    def _on_event(self, message: dict[str, Any]) -> None:
        event_id = int(message["id"])
        if self.last_id is not None and event_id <= self.last_id:
            self.reoffered += 1
            return
        self.received[event_id] = time.monotonic()
        self.last_id = event_id

    def _run(self) -> None:
        attempt = 0
        while not self.stopped:
            sio = socketio.Client(reconnection=False, ssl_verify=False)
            sio.on("event", self._on_event, namespace="/live")
            sio.on("reload", lambda data: self.reloads.append(str(data)), namespace="/live")
            self.sio = sio
            try:
                sio.connect(
                    self.url,
                    headers={"Cookie": self.cookie},
                    transports=["websocket"],
                    namespaces=["/live"],
                    wait_timeout=10,
                )
                self.connects += 1
                while True:
                    ack = sio.call(
                        "resume", {"last_id": self.last_id}, namespace="/live", timeout=15
                    )
                    if ack.get("ok"):
                        self.last_id = max(self.last_id or 0, int(ack["last_id"]))
                        self.resumes.append(time.monotonic())
                        self.resumed.set()
                        break
                    if not ack.get("retry"):
                        raise RuntimeError(f"resume: {ack.get('error')}")
                    gevent.sleep(1)
                attempt = 0
                sio.wait()  # until the connection is lost
            except Exception as error:
                what = f"{type(error).__name__}: {str(error)[:80]}"
                self.errors[what] = self.errors.get(what, 0) + 1
            with contextlib.suppress(Exception):
                sio.disconnect()
            if not self.stopped:
                gevent.sleep(reconnection_delay(attempt))
                attempt += 1

    def resumed_since(self, moment: float) -> float | None:
        return first_after(self.resumes, moment)

    def close(self) -> None:
        self.stopped = True
        if self.sio is not None:
            with contextlib.suppress(Exception):
                self.sio.disconnect()
        self.greenlet.kill(block=False)
