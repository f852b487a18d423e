"""The simulated people: kiosks speaking the real /kiosk protocol through an outbox, and parents
on /live who log in over HTTP and resume from the last event they applied.

Both run as greenlets in the harness's process (gevent, monkey-patched by __main__) and own their
connection loop: every failure (a refused connect, a timeout, a dropped socket) leads to a fresh
connection after a pause, never to a dropped entry or a skipped event.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import gevent
import requests
import socketio
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # our throwaway cert


@dataclass
class Entry:
    key: str
    kind: str
    payload: dict[str, Any]
    lesson_id: int
    created: float
    first_sent: float | None = None
    last_sent: float | None = None  # the attempt whose acknowledgement came
    acked: float | None = None
    status: str = "saved"  # saved -> acked (applied|duplicate) or parked
    ack_status: str | None = None
    event_ids: list[int] = field(default_factory=list)
    attempts: int = 0
    refusal: str | None = None


class KioskSim:
    """One classroom: an enrolled device, its teacher's day session, an in-memory outbox."""

    def __init__(self, info: dict[str, Any], url: str, password: str) -> None:
        self.info = info
        self.url = url
        self.password = password
        self.entries: list[Entry] = []
        self.pending: deque[Entry] = deque()
        self.token: str | None = None
        self.sio: socketio.Client | None = None
        self.reconnects = 0
        self.errors: dict[str, int] = {}
        self.stopped = False
        self.wake = gevent.event.Event()
        self.greenlet = gevent.spawn(self._run)

    def add(self, kind: str, payload: dict[str, Any]) -> Entry:
        entry = Entry(str(uuid.uuid4()), kind, payload, self.info["lesson"], time.monotonic())
        self.entries.append(entry)
        self.pending.append(entry)
        self.wake.set()
        return entry

    def _note(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def _drop_connection(self) -> None:
        if self.sio is not None:
            with contextlib.suppress(Exception):
                self.sio.disconnect()
        self.sio = None

    def _connect(self) -> None:
        sio = socketio.Client(reconnection=False, ssl_verify=False)
        sio.connect(
            self.url,
            auth={"kiosk_id": self.info["id"], "secret": self.info["secret"]},
            transports=["websocket"],
            namespaces=["/kiosk"],
            wait_timeout=10,
        )
        self.sio = sio
        self.reconnects += 1
        if self.token is None:
            self._login()

    def _login(self) -> None:
        assert self.sio is not None
        ack = self.sio.call(
            "teacher_login",
            {"login": self.info["teacher"], "password": self.password},
            namespace="/kiosk",
            timeout=15,
        )
        if not ack.get("ok"):
            raise RuntimeError(f"teacher_login: {ack.get('error')}")
        self.token = ack["session"]

    def _run(self) -> None:
        backoff = 0.2
        while not (self.stopped and not self.pending):
            if not self.pending:
                self.wake.clear()
                self.wake.wait(0.5)
                continue
            if self.sio is None or not self.sio.connected:
                self._drop_connection()
                try:
                    self._connect()
                    backoff = 0.2
                except Exception as error:
                    self._note(f"connect:{type(error).__name__}")
                    self._drop_connection()
                    gevent.sleep(backoff)
                    backoff = min(backoff * 2, 3.0)
                    continue
            entry = self.pending[0]
            entry.attempts += 1
            entry.last_sent = time.monotonic()
            entry.first_sent = entry.first_sent or entry.last_sent
            try:
                assert self.sio is not None
                ack = self.sio.call(
                    "submit",
                    {
                        "key": entry.key,
                        "session": self.token,
                        "kind": entry.kind,
                        "lesson_id": entry.lesson_id,
                        "payload": entry.payload,
                    },
                    namespace="/kiosk",
                    timeout=10,
                )
            except Exception as error:
                self._note(f"submit:{type(error).__name__}")
                self._drop_connection()
                continue
            if ack.get("ok"):
                entry.acked = time.monotonic()
                entry.status = "acked"
                entry.ack_status = ack.get("status")
                entry.event_ids = list(ack.get("event_ids") or [])
                self.pending.popleft()
                continue
            code = str(ack.get("error"))
            self._note(code)
            if code in ("session_ended", "login_required"):
                self.token = None
                try:
                    self._login()
                except Exception:
                    self._drop_connection()
                    gevent.sleep(1)
            elif ack.get("retry") or code == "throttled":
                gevent.sleep(float(ack.get("retry_after") or 0.5))
            else:  # a refused entry is parked, never dropped: the ledger shows it
                entry.status = "parked"
                entry.refusal = code
                self.pending.popleft()

    def stop(self) -> None:
        self.stopped = True
        self.wake.set()

    def close(self) -> None:
        self.greenlet.kill(block=False)
        self._drop_connection()


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
        backoff = 0.2
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
                        self.resumed.set()
                        break
                    if not ack.get("retry"):
                        raise RuntimeError(f"resume: {ack.get('error')}")
                    gevent.sleep(1)
                backoff = 0.2
                sio.wait()  # until the connection is lost
            except Exception as error:
                self.errors[type(error).__name__] = self.errors.get(type(error).__name__, 0) + 1
            with contextlib.suppress(Exception):
                sio.disconnect()
            if not self.stopped:
                gevent.sleep(backoff)
                backoff = min(backoff * 2, 3.0)

    def close(self) -> None:
        self.stopped = True
        if self.sio is not None:
            with contextlib.suppress(Exception):
                self.sio.disconnect()
        self.greenlet.kill(block=False)
