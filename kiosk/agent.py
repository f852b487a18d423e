"""The agent's state: the device, the teacher at the screen, the open lesson, the lock rules.

The teacher's unlocked screen lives in this process's memory only and is dropped on every lock:
idle, end of the lesson, the lock button, a page load of the browser (the server's side of the
session is locked too; the day's PIN reopens it). The server's session token is written to disk
only with what must outlive the process: each entry carries the token it is sent under (after a
kill -9 or a reboot too; the server accepts entries under a locked or ended session of the same
day, docs/protocol.md), and the day's PIN verifier keeps it for work without the server.
All of that, and the cached lesson data, is dropped when the device is revoked; entries never are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import credential as credentials
from kiosk import protocol
from kiosk.config import Config
from kiosk.connection import Connection
from kiosk.desk import LessonDesk, TeacherSession, UserError, parse_time
from kiosk.grades import GradeDesk
from kiosk.homework import HomeworkDesk
from kiosk.i18n import translate
from kiosk.link import ServerLink
from kiosk.login import TeacherLogin
from kiosk.offline import PinVerifiers
from kiosk.outbox import Outbox, Sender, State, Unavailable

log = logging.getLogger(__name__)

ROOM_REFRESH_SECONDS = 300.0


class StaleScreen(UserError):
    """The request came from a page that is no longer the agent's current screen."""

    def __init__(self) -> None:
        super().__init__("stale", code="stale", status=409)


class Agent(TeacherLogin, ServerLink, GradeDesk, HomeworkDesk, LessonDesk):
    """The agent: its life cycle, the screen's state and the watchdog; logging in (login.py),
    the server (link.py) and the lesson's desk (desk.py) are its sections."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.zone = ZoneInfo(config.timezone)
        credentials.ensure_private_dir(config.state_dir)
        self.outbox = Outbox(config.state_dir / "kiosk.db")
        self.pins = PinVerifiers(self.outbox.connection, self.outbox.lock)
        self.credential = credentials.load(config.state_dir)
        self._credential_stamp = self._stamp()
        self._lock = threading.RLock()
        self.session: TeacherSession | None = None
        self.ui_token: str | None = None
        self.last_activity = self.clock()
        self.notice: str | None = None
        self.lang = "pl"
        self._room_fetched = 0.0
        self._beaten = 0.0
        self._day: dt.date | None = None
        self._stop = threading.Event()
        self.connection = Connection(
            config,
            lambda: self.credential,
            auth=protocol.auth,
            is_revocation=protocol.is_revocation,
            on_online=self._online,
            on_offline=lambda: None,
            on_revoked=self._revoked,
            on_push=self._push,
        )
        self.sender = Sender(
            self.outbox,
            self._send_entry,
            can_send=lambda: self.connection.online,
            retry_max=config.retry_max_seconds,
        )
        self._watchdog = threading.Thread(target=self._watch, name="kiosk-watchdog", daemon=True)

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self.connection.start()
        self.sender.start()
        self._watchdog.start()

    def stop(self) -> None:
        self._stop.set()
        self.sender.stop()
        self.connection.stop()
        self.outbox.close()

    def t(self, text: str, **values: Any) -> str:
        return translate(text, self.lang, **values)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def today(self) -> dt.date:
        return self.now().astimezone(self.zone).date()

    def _stamp(self) -> float | None:
        try:
            return credentials.path_in(self.config.state_dir).stat().st_mtime
        except FileNotFoundError:
            return None

    # -- the screen (a page of the browser) -------------------------------------------------------

    def hello(self) -> str:
        """A page load: the browser (re)started or reloaded. Lock, and give the page a new token."""
        with self._lock:
            if self.session is not None:
                self._drop_screen(None)
            self.ui_token = secrets.token_urlsafe(24)
            self.last_activity = self.clock()
            return self.ui_token

    def check(self, token: str | None) -> None:
        if (
            token is None
            or self.ui_token is None
            or not secrets.compare_digest(token, self.ui_token)
        ):
            raise StaleScreen()

    def touch(self) -> None:
        self.last_activity = self.clock()

    def lock(self, notice: str | None = None) -> None:
        with self._lock:
            self._drop_screen(notice)

    def _drop_screen(self, notice: str | None, end: bool = False) -> None:
        session, self.session = self.session, None
        self.notice = notice
        if session is not None and session.token:
            # The server locks (or ends) its side too; best effort: entries made under the
            # session are accepted after either, and its PIN reopens a locked one.
            threading.Thread(
                target=self._logout_quietly, args=(session.token, end), daemon=True
            ).start()

    def _logout_quietly(self, token: str, end: bool) -> None:
        data: dict[str, Any] = {"session": token}
        if end:
            data["end"] = True
        with contextlib.suppress(Unavailable):
            self.connection.call(protocol.LOGOUT, data, timeout=5)

    def end_day(self) -> None:
        """ "Zakończ dzień": the day's PIN stops working here, on the server and on this kiosk."""
        with self._lock:
            session = self.session
            self._drop_screen(self.t("Wylogowano."), end=True)
        if session is not None:
            self.pins.forget(session.teacher_id)

    def state(self) -> dict[str, Any]:
        with self._lock:
            session = self.session
        counts = self.outbox.counts()
        cred = self.credential
        revoked = bool(self.outbox.cache_get("device:revoked"))
        screen = "lesson" if session else "lock"
        if cred is None:
            screen = "revoked" if revoked else "unenrolled"
        room = self.outbox.cache_get("room") or {}
        day = self._room_day(room)
        now = self.now()
        return {
            "screen": screen,
            "now": now.isoformat(),
            "room": protocol.name_of(room.get("room")) or (cred.room if cred else ""),
            "school": protocol.name_of(room.get("school")) or (cred.school if cred else ""),
            "connection": self.connection.state.value,
            "notice": self.notice,
            "revoked_message": self.t(
                "Urządzenie zostało wyrejestrowane. Skontaktuj się z administratorem szkoły."
            )
            if revoked
            else None,
            "outbox": {"saved": counts[State.SAVED], "parked": counts[State.PARKED]},
            "lesson_now": _lesson_at(day, now),
            "lesson_next": _lesson_after(day, now),
            "pin_teachers": self.pins.teachers(self.today()) if cred else [],
            "session": self._session_view(session) if session else None,
        }

    def _session_view(self, session: TeacherSession) -> dict[str, Any]:
        entries = []
        if session.lesson_id is not None:
            entries = self.outbox.entries(lesson_id=session.lesson_id, limit=50)
        parked = [
            e
            for e in self.outbox.entries(states=(State.PARKED,), limit=50)
            if e.teacher_id == session.teacher_id
        ]
        return {
            "teacher": session.name,
            "mode": session.mode,
            "lessons": session.lessons,
            "lesson_id": session.lesson_id,
            "roster": self.lesson_view(session),
            "entries": self.entries_view(entries),
            "parked": self.entries_view(parked),
        }

    # -- the watchdog: locks, the day's end, a new credential --------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(0.25):
            try:
                self.tick()
            except Exception:
                log.exception("watchdog tick failed")

    def tick(self) -> None:
        stamp = self._stamp()
        if stamp is not None and stamp != self._credential_stamp:
            self._reenrolled(stamp)
        if self.connection.online and self.clock() - self._beaten >= self.config.heartbeat_seconds:
            self._beaten = self.clock()
            threading.Thread(target=self.beat, daemon=True).start()
        if self.connection.online and self.clock() - self._room_fetched > ROOM_REFRESH_SECONDS:
            threading.Thread(target=self._refresh_room, daemon=True).start()
        if self.today() != self._day:
            self._day = self.today()
            self.pins.expire(self._day)  # yesterday's PINs open nothing; their verifiers go
        with self._lock:
            session = self.session
            if session is None:
                return
            now = self.clock()
            if now - self.last_activity >= self.config.idle_lock_seconds:
                minutes = max(1, round(self.config.idle_lock_seconds / 60))
                self._drop_screen(
                    self.t("Ekran zablokowany po {minutes} min bezczynności.", minutes=minutes)
                )
            elif session.lock_at is not None and now >= session.lock_at:
                self._drop_screen(self.t("Ekran zablokowany po zakończeniu lekcji."))
            elif now >= session.expires_at:
                self.pins.forget(session.teacher_id)
                self._drop_screen(self.t("Minęło 12 godzin od logowania. Zaloguj się ponownie."))

    def _reenrolled(self, stamp: float) -> None:
        loaded = credentials.load(self.config.state_dir)
        with self._lock:
            self._credential_stamp = stamp
            if loaded is None:
                return
            log.info("credential for kiosk %s loaded", loaded.kiosk_id)
            self.credential = loaded
            self.outbox.cache_delete("device:")
        self.connection.wake()


def _lesson_at(lessons: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any] | None:
    for lesson in lessons:
        if parse_time(lesson["starts_at"]) <= now < parse_time(lesson["ends_at"]):
            return lesson
    return None


def _lesson_after(lessons: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any] | None:
    later = [x for x in lessons if parse_time(x["starts_at"]) > now]
    return min(later, key=lambda x: parse_time(x["starts_at"])) if later else None
