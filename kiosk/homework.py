"""Tests and homework announced at the kiosk (issue 18): the `homework` entry of the protocol.

`HomeworkDesk` is the part of the agent (`kiosk.agent.Agent` mixes it in) that asks the server
for the lessons a test or homework may be announced for (`homework_dates`, with what a test on
each date would break of the statute's limits), and turns the dialog's choice into an outbox
entry like any other. A test on a date the server warned about is refused here until the
teacher confirms (`confirm`): the screen shows the warning and asks first. Without the server
the dates are not known, so nothing is announced (a teacher types it again later, or on the web).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kiosk import protocol
from kiosk.desk import UserError

if TYPE_CHECKING:
    from kiosk.desk import TeacherSession
    from kiosk.outbox import Entry

HOMEWORK_KINDS = {"test": "Sprawdzian", "quiz": "Kartkówka", "homework": "Zadanie domowe"}
MAX_HOMEWORK = protocol.limit("homework_text")
HOMEWORK_DATES = "homework_dates"


class HomeworkDesk:
    """Mixed into the agent; these are the agent's (desk.py), named for the type checker."""

    if TYPE_CHECKING:

        def t(self, text: str, **values: Any) -> str: ...
        def _require(self) -> TeacherSession: ...
        def _roster_of(self, lesson_id: int) -> dict[str, Any]: ...
        def _call(self, event: str, data: dict[str, Any]) -> dict[str, Any]: ...
        def _entry(
            self,
            kind: str,
            lesson_id: int,
            payload: dict[str, Any],
            summary: str,
            key: str | None = None,
        ) -> Entry: ...

    def homework_dates(self, lesson_id: int) -> list[dict[str, Any]]:
        """The open lesson's class's coming lessons of this subject, from the server."""
        session = self._require()
        self._roster_of(lesson_id)  # the open lesson only
        if not session.token:
            raise UserError(self.t("Nie można teraz połączyć się z serwerem."), code="offline")
        ack = self._call(HOMEWORK_DATES, {"session": session.token, "lesson_id": lesson_id})
        lessons = [dict(item) for item in ack.get("lessons", [])]
        session.homework_dates[lesson_id] = lessons
        return lessons

    def announce_homework(
        self,
        lesson_id: int,
        kind: str,
        date: str,
        description: str,
        due_date: str | None,
        confirm: bool,
        key: str | None = None,
    ) -> Entry:
        session = self._require()
        invalid = UserError(self.t("Nieprawidłowe dane."), code="invalid")
        if kind not in HOMEWORK_KINDS:
            raise UserError(self.t("Wybierz: sprawdzian, kartkówka czy zadanie."), code="invalid")
        chosen = next(
            (d for d in session.homework_dates.get(lesson_id, []) if d.get("date") == date), None
        )
        if chosen is None:
            raise UserError(self.t("Wybierz dzień lekcji."), code="invalid")
        description = (description or "").strip()
        if not description:
            raise UserError(self.t("Wpisz, czego dotyczy zapowiedź."), code="homework_empty")
        if len(description) > MAX_HOMEWORK:
            raise invalid
        payload: dict[str, Any] = {
            "homework_kind": kind,
            "date": date,
            "description": description,
        }
        if kind == "homework":
            if not due_date or due_date < date:
                raise UserError(
                    self.t("Termin oddania zadania nie może być przed lekcją."),
                    code="due_date_invalid",
                )
            payload["due_date"] = due_date
        warnings = chosen.get("test_warnings") or []
        if kind == "test" and warnings:
            if not confirm:
                raise UserError(" ".join(warnings), code="test_limit", status=409)
            payload["confirm"] = True
        day = dt.date.fromisoformat(date)
        summary = self.t(
            "{kind} {date} — {about}",
            kind=self.t(HOMEWORK_KINDS[kind]),
            date=f"{day:%d.%m}",
            about=description[:40],
        )
        return self._entry("homework", lesson_id, payload, summary, key)
