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
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import credential as credentials
from kiosk import protocol
from kiosk.config import Config
from kiosk.connection import Connection
from kiosk.desk import LessonDesk, TeacherSession, UserError, parse_time
from kiosk.i18n import translate
from kiosk.offline import PinVerifiers
from kiosk.outbox import Entry, Outbox, Outcome, Sender, State, Unavailable
from kiosk.roster import LESSON_EVENTS

log = logging.getLogger(__name__)

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
ROOM_REFRESH_SECONDS = 300.0


class StaleScreen(UserError):
    """The request came from a page that is no longer the agent's current screen."""

    def __init__(self) -> None:
        super().__init__("stale", code="stale", status=409)


class Agent(LessonDesk):
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

    # -- logging in -------------------------------------------------------------------------------

    def _offline_error(self) -> UserError:
        return UserError(
            self.t(
                "Serwer jest niedostępny. Nauczyciel, który logował się dziś na tym komputerze,"
                " może odblokować PIN-em."
            ),
            code="offline",
        )

    def login(self, login: str, password: str, pin: str = "") -> None:
        login = login.strip()
        if not login or not password or len(login) > 80 or len(password) > 128:
            raise UserError(self.t("Nieprawidłowy login lub hasło."), code="login_failed")
        if pin and not PIN_PATTERN.match(pin):
            raise UserError(self.t("PIN musi mieć od 4 do 8 cyfr."), code="pin_format")
        if not self.connection.online:
            raise self._offline_error()
        data: dict[str, Any] = {"login": login, "password": password}
        if pin:
            data["pin"] = pin
        ack = self._call(protocol.LOGIN, data)
        session = self._session_from(ack, mode="online")
        if pin:
            self._remember_pin(session, pin)
        self._start(session, ack.get("lesson_now"))
        threading.Thread(target=self._prefetch, args=(session,), daemon=True).start()

    def _remember_pin(self, session: TeacherSession, pin: str) -> None:
        """The offline unlock: the verifier, and what the teacher needs to work without the
        server (the lessons here, the day's session token that the entries will be sent under)."""
        self.pins.remember(
            session.teacher_id,
            session.name,
            pin,
            self.today(),
            {"lessons": session.lessons, "expires_at": session.expires_at, "token": session.token},
        )

    def _session_from(self, ack: dict[str, Any], mode: str) -> TeacherSession:
        teacher = ack["teacher"]
        token = str(ack["session"])
        expires = parse_time(ack["expires_at"]).timestamp() if ack.get("expires_at") else None
        expires_at = min(
            expires or float("inf"), self.clock() + self.config.hard_logout_hours * 3600
        )
        session = TeacherSession(
            teacher_id=int(teacher["id"]),
            name=protocol.teacher_name(teacher),
            mode=mode,
            token=token,
            expires_at=expires_at,
            lessons=list(ack.get("lessons") or []),
        )
        self.outbox.cache_put(f"lessons:{session.teacher_id}", session.lessons)
        self.outbox.requeue_for_teacher(session.teacher_id, protocol.REQUEUED_AT_LOGIN, token)
        return session

    def unlock(self, teacher_id: int, pin: str) -> None:
        """The day's PIN: checked by the server when it is reachable, else by the local verifier."""
        if not PIN_PATTERN.match(pin or ""):
            raise UserError(self.t("Nieprawidłowy PIN."), code="pin_wrong")
        today = self.today()
        if not self.pins.has(teacher_id, today):
            raise self._pin_gone()
        if self.connection.online:
            try:
                ack = self._call(protocol.PIN_UNLOCK, {"teacher_id": teacher_id, "pin": pin})
            except UserError as error:
                if error.code in protocol.PIN_GONE:
                    self.pins.forget(teacher_id)
                if error.code != "offline":
                    raise
            else:
                session = self._session_from(ack, mode="online")
                self._remember_pin(session, pin)
                self._start(session, ack.get("lesson_now"))
                return
        teacher = self.pins.verify(teacher_id, pin, today, self.config.pin_attempts)
        if teacher is None:
            if not self.pins.has(teacher_id, today):
                raise self._pin_gone()
            raise UserError(self.t("Nieprawidłowy PIN."), code="pin_wrong")
        expires_at = float(teacher.data.get("expires_at") or 0)
        if self.clock() >= expires_at:
            self.pins.forget(teacher_id)
            raise UserError(
                self.t("Minęło 12 godzin od logowania. Zaloguj się ponownie."), code="expired"
            )
        lessons = self.outbox.cache_get(f"lessons:{teacher_id}") or teacher.data.get("lessons")
        session = TeacherSession(
            teacher_id=teacher.teacher_id,
            name=teacher.name,
            mode="offline_pin",
            token=teacher.data.get("token"),
            expires_at=expires_at,
            lessons=list(lessons or []),
        )
        self._start(session, None)

    def _pin_gone(self) -> UserError:
        return UserError(
            self.t("Za dużo błędnych prób PIN-u. Zaloguj się loginem i hasłem."),
            code="login_required",
        )

    def _start(self, session: TeacherSession, lesson_now: Any) -> None:
        with self._lock:
            self.session = session
            self.notice = None
            self.touch()
        opening = int(lesson_now) if isinstance(lesson_now, int) else None
        if opening is None:
            now = self.now()
            current = [
                lesson
                for lesson in session.lessons
                if lesson.get("here")
                and lesson.get("status") != "cancelled"
                and parse_time(lesson["starts_at"]) <= now < parse_time(lesson["ends_at"])
            ]
            opening = int(current[0]["id"]) if current else None
        if opening is not None:
            try:
                self.open_lesson(opening, auto=True)
            except UserError as error:  # the screen offers the list of lessons instead
                log.warning("lesson %s did not open: %s %s", opening, error.code, error.message)

    # -- the server -------------------------------------------------------------------------------

    def _call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        try:
            ack = self.connection.call(event, data)
        except Unavailable as error:
            raise UserError(
                self.t("Nie można teraz połączyć się z serwerem."), code="offline"
            ) from error
        refused = protocol.refusal(ack)
        if refused is not None:
            code, message = refused
            if code in protocol.DEVICE_REFUSALS:
                self._revoked(ack)
            raise UserError(message or self.t("Nieprawidłowe dane."), code=code)
        return dict(ack)

    def _send_entry(self, entry: Entry) -> Outcome:
        token = entry.auth.get("session")
        if not token:
            return Outcome("parked", code="no_session", message=self.t("Nie jesteś zalogowany."))
        ack = self.connection.call(protocol.SUBMIT, protocol.submission(entry, token))
        outcome = protocol.outcome(ack)
        if outcome.code in protocol.DEVICE_REFUSALS:
            self._revoked(ack)
        if outcome.kind == "synced":
            self._acknowledged(entry, ack)  # before the entry stops being overlaid on the roster
        elif outcome.code == protocol.SERVER_ERROR:
            outcome = replace(
                outcome,
                message=self.t(
                    "Błąd serwera: wpisu nie przyjęto. Zostanie wysłany ponownie po następnym"
                    " zalogowaniu."
                ),
            )
        return outcome

    def _online(self) -> None:
        self.sender.wake()
        threading.Thread(target=self._refresh_room, daemon=True).start()
        threading.Thread(target=self._refollow, daemon=True).start()

    def _refresh_room(self) -> None:
        self._room_fetched = self.clock()
        try:
            ack = self.connection.call(protocol.ROOM, {})
        except Unavailable:
            return
        if protocol.refusal(ack) is None:
            self.outbox.cache_put("room", ack)

    def _room_day(self, room: dict[str, Any]) -> list[dict[str, Any]]:
        if room.get("today") != self.today().isoformat():
            return []
        return [x for x in room.get("lessons") or [] if x.get("status") != "cancelled"]

    def _push(self, event: str, data: Any) -> None:
        if event == protocol.REVOKED or (
            event == protocol.JOURNAL
            and isinstance(data, dict)
            and data.get("type") == protocol.JOURNAL_REVOKED
        ):
            self._revoked(data)
        elif (
            event == protocol.JOURNAL
            and isinstance(data, dict)
            and data.get("type") in LESSON_EVENTS
        ):
            self._lesson_event(data)  # in order, on the connection's thread: pushes come in order
        elif event == protocol.DELIVERED and isinstance(data, dict) and data.get("key"):
            key = str(data["key"])
            threading.Thread(target=self._delivered, args=(key,), daemon=True).start()

    def _delivered(self, key: str) -> None:
        # The push can overtake the sender's own bookkeeping of the acknowledgement.
        for _ in range(100):
            entry = self.outbox.get(key)
            if entry is None or entry.state is not State.SAVED:
                break
            time.sleep(0.05)
        self.outbox.mark_delivered(key)

    def _revoked(self, data: Any) -> None:
        """Drop the teacher session, the cached lesson data, the day tokens and the credential;
        keep the entries: they are sent after the next enrollment, when their teachers log in."""
        log.warning("device refused by the server: %s", data)
        with self._lock:
            self._drop_screen(None)
            self.outbox.cache_delete()
            self.outbox.cache_put("device:revoked", True)
            self.pins.forget_all()
            if self.credential is not None:
                credentials.delete(self.config.state_dir)
            self.credential = None
            self._credential_stamp = None
        self.connection.mark_revoked()

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
