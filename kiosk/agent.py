"""The agent's state: the device, the teacher at the screen, the open lesson, lock rules.

The teacher session lives in this process's memory only: it is dropped on every lock (idle, end of
the lesson, the lock button, a page load of the browser), and nothing of it is written to disk
except what must survive: entries (outbox), the day's PIN verifier and the lesson data needed to
keep working without the server (both removed when the device is revoked or the day ends).
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
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import credential as credentials
from kiosk import protocol
from kiosk.config import Config
from kiosk.connection import Connection, LinkState
from kiosk.i18n import translate
from kiosk.offline import PinVerifiers
from kiosk.outbox import Entry, Outbox, Outcome, Sender, State, Unavailable

log = logging.getLogger(__name__)

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
MAX_TOPIC = 500
MAX_TEXT = 2000
MAX_DESCRIPTION = 200


class UserError(Exception):
    """Something the person at the screen should read (already translated)."""

    def __init__(self, message: str, code: str = "refused", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class StaleScreen(UserError):
    """The request came from a page that is no longer the agent's current screen."""

    def __init__(self) -> None:
        super().__init__("stale", code="stale", status=409)


@dataclass
class TeacherSession:
    teacher_id: int
    name: str
    mode: str  # "online": a server session exists; "offline_pin": unlocked with the local PIN
    token: str | None
    full_login_at: float
    lessons: list[dict[str, Any]]
    lesson_id: int | None = None
    # When the auto-opened lesson ends (plus grace) the screen locks; None for a picked lesson.
    lock_at: float | None = None
    rosters: dict[int, dict[str, Any]] = field(default_factory=dict)


def parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Agent:
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
                self._drop_session(None)
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
            self._drop_session(notice)

    def _drop_session(self, notice: str | None) -> None:
        session, self.session = self.session, None
        self.notice = notice
        if session is not None and session.token and self.connection.online:
            token = session.token
            # The server ends its side too; best effort, the session expires there anyway.
            threading.Thread(target=self._logout_quietly, args=(token,), daemon=True).start()

    def _logout_quietly(self, token: str) -> None:
        with contextlib.suppress(Unavailable):
            self.connection.call("teacher_logout", {"session": token}, timeout=5)

    def state(self) -> dict[str, Any]:
        with self._lock:
            session = self.session
            counts = self.outbox.counts()
            cred = self.credential
            revoked = self.outbox.cache_get("device:revoked")
            screen = "lesson" if session else "lock"
            if cred is None:
                screen = "revoked" if revoked else "unenrolled"
            day = self._room_day()
            now = self.now()
            return {
                "screen": screen,
                "now": now.isoformat(),
                "room": cred.room if cred else "",
                "school": cred.school if cred else "",
                "connection": self.connection.state.value,
                "notice": self.notice,
                "revoked_message": revoked
                and self.t(
                    "Urządzenie zostało wyrejestrowane. Skontaktuj się z administratorem szkoły."
                ),
                "outbox": {"saved": counts[State.SAVED], "parked": counts[State.PARKED]},
                "lesson_now": _lesson_at(day, now),
                "lesson_next": _lesson_after(day, now),
                "pin_teachers": self.pins.teachers(self.today()) if cred else [],
                "idle_lock_seconds": self.config.idle_lock_seconds,
                "session": self._session_view(session) if session else None,
            }

    def _session_view(self, session: TeacherSession) -> dict[str, Any]:
        entries = []
        if session.lesson_id is not None:
            entries = [
                e.public() for e in self.outbox.entries(lesson_id=session.lesson_id, limit=50)
            ]
        parked = [
            e.public()
            for e in self.outbox.entries(states=(State.PARKED,), limit=50)
            if e.teacher_id == session.teacher_id
        ]
        return {
            "teacher": session.name,
            "mode": session.mode,
            "lessons": session.lessons,
            "lesson_id": session.lesson_id,
            "entries": entries,
            "parked": parked,
        }

    # -- logging in -------------------------------------------------------------------------------

    def login(self, login: str, password: str, pin: str = "") -> None:
        login = login.strip()
        if not login or not password or len(login) > 150 or len(password) > 1000:
            raise UserError(self.t("Nieprawidłowy login lub hasło."), code="bad_login")
        if pin and not PIN_PATTERN.match(pin):
            raise UserError(self.t("PIN musi mieć od 4 do 8 cyfr."), code="bad_pin")
        if not self.connection.online:
            raise UserError(
                self.t(
                    "Serwer jest niedostępny. Nauczyciel, który logował się dziś na tym komputerze,"
                    " może odblokować PIN-em."
                ),
                code="offline",
            )
        ack = self._call("teacher_login", {"login": login, "password": password})
        teacher = ack["teacher"]
        session = TeacherSession(
            teacher_id=int(teacher["id"]),
            name=str(teacher["name"]),
            mode="online",
            token=ack.get("session"),
            full_login_at=self.clock(),
            lessons=list(ack.get("lessons") or []),
        )
        if pin:
            self._remember_pin(session, pin)
        self._start(session)

    def _remember_pin(self, session: TeacherSession, pin: str) -> None:
        here = [lesson for lesson in session.lessons if lesson.get("here")]
        self.pins.remember(
            session.teacher_id,
            session.name,
            pin,
            self.today(),
            {"lessons": here, "full_login_at": session.full_login_at},
        )

    def unlock(self, teacher_id: int, pin: str) -> None:
        """The day's PIN; checked here, so it works with the server unreachable too."""
        if not PIN_PATTERN.match(pin or ""):
            raise UserError(self.t("Nieprawidłowy PIN."), code="bad_pin")
        if not self.pins.has(teacher_id, self.today()):
            raise UserError(
                self.t("Za dużo błędnych prób PIN-u. Zaloguj się loginem i hasłem."),
                code="pin_gone",
            )
        teacher = self.pins.verify(teacher_id, pin, self.today(), self.config.pin_attempts)
        if teacher is None:
            if not self.pins.has(teacher_id, self.today()):
                raise UserError(
                    self.t("Za dużo błędnych prób PIN-u. Zaloguj się loginem i hasłem."),
                    code="pin_gone",
                )
            raise UserError(self.t("Nieprawidłowy PIN."), code="bad_pin")
        full_login_at = float(teacher.data.get("full_login_at") or 0)
        if self.clock() - full_login_at > self.config.hard_logout_hours * 3600:
            self.pins.forget(teacher_id)
            raise UserError(
                self.t("Minęło 12 godzin od logowania. Zaloguj się ponownie."), code="pin_expired"
            )
        session = TeacherSession(
            teacher_id=teacher.teacher_id,
            name=teacher.name,
            mode="offline_pin",
            token=None,
            full_login_at=full_login_at,
            lessons=list(teacher.data.get("lessons") or []),
        )
        if self.connection.online:
            try:
                ack = self._call("teacher_resume", {"teacher_id": teacher_id})
            except UserError:
                ack = None
            if ack:
                session.mode, session.token = "online", ack.get("session")
                session.lessons = list(ack.get("lessons") or session.lessons)
        self._start(session)

    def _start(self, session: TeacherSession) -> None:
        with self._lock:
            self.session = session
            self.notice = None
            self.touch()
        self.outbox.cache_put(f"teacher:{session.teacher_id}", session.lessons)
        now = self.now()
        current = [
            lesson
            for lesson in session.lessons
            if lesson.get("here")
            and parse_time(lesson["starts_at"]) <= now < parse_time(lesson["ends_at"])
        ]
        if current:
            self.open_lesson(int(current[0]["id"]), auto=True)

    # -- lessons ----------------------------------------------------------------------------------

    def _require(self) -> TeacherSession:
        session = self.session
        if session is None:
            raise UserError(self.t("Nie jesteś zalogowany."), code="locked", status=401)
        return session

    def open_lesson(self, lesson_id: int, auto: bool = False) -> dict[str, Any]:
        session = self._require()
        lesson = next((x for x in session.lessons if int(x["id"]) == lesson_id), None)
        if lesson is None:
            raise UserError(self.t("Nie wybrano lekcji."), code="no_lesson", status=404)
        roster = self.roster(lesson_id)
        with self._lock:
            if self.session is not session:
                raise UserError(self.t("Nie jesteś zalogowany."), code="locked", status=401)
            session.lesson_id = lesson_id
            ends = parse_time(lesson["ends_at"]).timestamp()
            starts = parse_time(lesson["starts_at"]).timestamp()
            current = starts <= self.clock() < ends
            session.lock_at = ends + self.config.lesson_end_grace_seconds if current else None
        return roster

    def roster(self, lesson_id: int) -> dict[str, Any]:
        """The lesson's roster: from the server when online (then cached), else the cached copy."""
        session = self._require()
        data: dict[str, Any] | None = session.rosters.get(lesson_id)
        if data is None:
            if self.connection.online and session.token:
                try:
                    data = self._call("roster", {"session": session.token, "lesson_id": lesson_id})
                except UserError:
                    data = None
                if data is not None:
                    self.outbox.cache_put(f"roster:{lesson_id}", data)
            if data is None:
                data = self.outbox.cache_get(f"roster:{lesson_id}")
            if data is None:
                raise UserError(self.t("Nie można teraz połączyć się z serwerem."), code="offline")
            session.rosters[lesson_id] = data
        return {**data, "attendance": self._attendance_with_local(lesson_id, data)}

    def _attendance_with_local(self, lesson_id: int, data: dict[str, Any]) -> dict[str, str]:
        """The server's attendance, overlaid with this kiosk's rolls it may not have yet."""
        attendance = {str(k): v for k, v in (data.get("attendance") or {}).items()}
        for entry in self.outbox.entries(lesson_id=lesson_id):
            if entry.kind == "roll" and entry.state in (State.SAVED, State.SYNCED, State.DELIVERED):
                attendance.update({str(k): v for k, v in entry.payload.get("states", {}).items()})
        return attendance

    # -- entries ----------------------------------------------------------------------------------

    def _entry(self, kind: str, lesson_id: int, payload: dict[str, Any], summary: str) -> Entry:
        session = self._require()
        if session.lesson_id != lesson_id:
            raise UserError(self.t("Nie wybrano lekcji."), code="no_lesson", status=404)
        auth = {"auth_mode": session.mode}
        if session.token:
            auth["session"] = session.token
        self.touch()
        return self.outbox.add(
            kind,
            payload,
            lesson_id=lesson_id,
            teacher_id=session.teacher_id,
            teacher_name=session.name,
            summary=summary,
            auth=auth,
        )

    def _pupils(self, lesson_id: int) -> dict[int, str]:
        session = self._require()
        roster = session.rosters.get(lesson_id) or {}
        return {int(p["id"]): str(p["name"]) for p in roster.get("pupils", [])}

    def submit_roll(self, lesson_id: int, states: dict[str, str], topic: str) -> Entry:
        session = self._require()
        roster = session.rosters.get(lesson_id)
        if roster is None:
            raise UserError(self.t("Nie wybrano lekcji."), code="no_lesson", status=404)
        pupils = self._pupils(lesson_id)
        codes = {str(t["code"]) for t in roster.get("types", [])}
        try:
            clean = {int(k): str(v) for k, v in states.items()}
        except (TypeError, ValueError) as error:
            raise UserError(self.t("Nieprawidłowe dane."), code="bad_input") from error
        if set(clean) - set(pupils) or set(clean.values()) - codes:
            raise UserError(self.t("Nieprawidłowe dane."), code="bad_input")
        # The whole roll: everyone not named is present (the default when the roll opens).
        default = roster.get("default_code") or "ob"
        full = {pid: clean.get(pid, default) for pid in pupils}
        topic = (topic or "").strip()
        if len(topic) > MAX_TOPIC:
            raise UserError(self.t("Nieprawidłowe dane."), code="bad_input")
        absent = sum(1 for code in full.values() if code != default)
        summary = (
            self.t("Obecność: {absent} nieobecnych, temat: {topic}", absent=absent, topic=topic)
            if topic
            else self.t("Obecność: {absent} nieobecnych", absent=absent)
        )
        payload: dict[str, Any] = {"states": {str(k): v for k, v in full.items()}}
        if topic:
            payload["topic"] = topic
        return self._entry("roll", lesson_id, payload, summary)

    def add_grade(
        self, lesson_id: int, pupil_id: int, category_id: int | None, value: str, description: str
    ) -> Entry:
        pupils = self._pupils(lesson_id)
        value = (value or "").strip()
        if pupil_id not in pupils or not re.match(r"^([1-6][+-]?|np|bz|\+|-)$", value):
            raise UserError(self.t("Wybierz ocenę."), code="bad_input")
        description = (description or "").strip()
        if len(description) > MAX_DESCRIPTION:
            raise UserError(self.t("Nieprawidłowe dane."), code="bad_input")
        payload = {
            "pupil_id": pupil_id,
            "value": value,
            "category_id": category_id,
            "description": description or None,
        }
        summary = self.t("Ocena {value} — {pupil}", value=value, pupil=pupils[pupil_id])
        return self._entry("grade", lesson_id, payload, summary)

    def add_remark(self, lesson_id: int, pupil_id: int, kind: str, text: str) -> Entry:
        pupils = self._pupils(lesson_id)
        names = {"positive": "pozytywna", "negative": "negatywna", "neutral": "neutralna"}
        if pupil_id not in pupils:
            raise UserError(self.t("Nieprawidłowe dane."), code="bad_input")
        if kind not in names:
            raise UserError(self.t("Wybierz rodzaj uwagi."), code="bad_input")
        text = (text or "").strip()
        if not text or len(text) > MAX_TEXT:
            raise UserError(self.t("Wpisz treść uwagi."), code="bad_input")
        payload = {"pupil_id": pupil_id, "remark_kind": kind, "text": text}
        summary = self.t("Uwaga {kind} — {pupil}", kind=self.t(names[kind]), pupil=pupils[pupil_id])
        return self._entry("remark", lesson_id, payload, summary)

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
            if protocol.is_revocation({"error": code}):
                self._revoked({"error": code})
            raise UserError(message or self.t("Nieprawidłowe dane."), code=code)
        return ack

    def _send_entry(self, entry: Entry) -> Outcome:
        event, data = protocol.submission(entry)
        ack = self.connection.call(event, data)
        outcome = protocol.outcome(ack)
        if outcome.kind == "hold" and protocol.is_revocation({"error": outcome.code}):
            self._revoked({"error": outcome.code})
        return outcome

    def _online(self) -> None:
        self.sender.wake()
        threading.Thread(target=self._refresh_room_day, daemon=True).start()

    def _refresh_room_day(self) -> None:
        try:
            ack = self.connection.call("room_day", {})
        except Unavailable:
            return
        if protocol.refusal(ack) is None:
            self.outbox.cache_put("room_day", ack)

    def _room_day(self) -> list[dict[str, Any]]:
        cached = self.outbox.cache_get("room_day") or {}
        if cached.get("date") not in (None, self.today().isoformat()):
            return []
        return list(cached.get("lessons") or [])

    def _push(self, event: str, data: Any) -> None:
        if event == "revoked":
            self._revoked(data)
        elif event == "delivered" and isinstance(data, dict) and data.get("key"):
            self.outbox.mark_delivered(str(data["key"]))
        elif event == "room_day" and isinstance(data, dict):
            self.outbox.cache_put("room_day", data)

    def _revoked(self, data: Any) -> None:
        """Drop the teacher session, the cached lesson data and the credential; keep the entries."""
        log.warning("device revoked by the server: %s", data)
        with self._lock:
            self.session = None
            self.notice = None
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
        with self._lock:
            session = self.session
            if session is None:
                return
            now = self.clock()
            if now - self.last_activity >= self.config.idle_lock_seconds:
                minutes = max(1, round(self.config.idle_lock_seconds / 60))
                self._drop_session(
                    self.t("Ekran zablokowany po {minutes} min bezczynności.", minutes=minutes)
                )
            elif session.lock_at is not None and now >= session.lock_at:
                self._drop_session(self.t("Ekran zablokowany po zakończeniu lekcji."))
            elif now - session.full_login_at >= self.config.hard_logout_hours * 3600:
                self.pins.forget(session.teacher_id)
                self._drop_session(self.t("Minęło 12 godzin od logowania. Zaloguj się ponownie."))

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


__all__ = ["Agent", "LinkState", "StaleScreen", "TeacherSession", "UserError"]
