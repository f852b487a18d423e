"""Logging in at the kiosk: the full login through the server, and the day's PIN.

`TeacherLogin` is the part of the agent (`kiosk.agent.Agent` mixes it in) that opens the
teacher's screen: a full login (login, password, optionally the day's PIN) through the server; the
day's PIN checked by the server when it is reachable, else by the local verifier
(kiosk/offline.py), so that a teacher who logged in today can work without the server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk import protocol
from kiosk.desk import TeacherSession, UserError, parse_time

if TYPE_CHECKING:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from kiosk.config import Config
    from kiosk.connection import Connection
    from kiosk.offline import PinVerifiers
    from kiosk.outbox import Outbox

log = logging.getLogger(__name__)


class TeacherLogin:
    """Mixed into the agent; these are the agent's, named here for the type checker."""

    if TYPE_CHECKING:
        session: TeacherSession | None
        notice: str | None
        config: Config
        clock: Callable[[], float]
        zone: ZoneInfo
        outbox: Outbox
        pins: PinVerifiers
        connection: Connection
        _lock: threading.RLock

        def t(self, text: str, **values: Any) -> str: ...
        def now(self) -> dt.datetime: ...
        def today(self) -> dt.date: ...
        def touch(self) -> None: ...
        def open_lesson(self, lesson_id: int, auto: bool = False) -> dict[str, Any]: ...
        def _prefetch(self, session: TeacherSession) -> None: ...
        def _call(self, event: str, data: dict[str, Any]) -> dict[str, Any]: ...

    def _offline_error(self) -> UserError:
        return UserError(
            self.t(
                "Serwer jest niedostępny. Nauczyciel, który logował się dziś na tym komputerze,"
                " może odblokować PIN-em."
            ),
            code="offline",
        )

    def login(self, login: str, password: str, pin: str = "") -> None:
        data: dict[str, Any] = {"login": login.strip(), "password": password}
        if not protocol.valid("teacher_login.request", data):
            raise UserError(self.t("Nieprawidłowy login lub hasło."), code="login_failed")
        if pin and not protocol.valid("day_pin", pin):
            raise UserError(self.t("PIN musi mieć od 4 do 8 cyfr."), code="pin_format")
        if not self.connection.online:
            raise self._offline_error()
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
        if not protocol.valid("day_pin", pin):
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
