"""The grades at the kiosk: a new grade (a value, or a descriptive grade), a poprawa of an
earlier one, a correction of the teacher's own grade, and its withdrawal (issue 15, item 4).

`GradeDesk` is the part of the agent (`kiosk.agent.Agent` mixes it in) that turns the grade
dialog's requests into outbox entries of the protocol's kinds `grade`, `grade_correction` and
`grade_removal` (docs/protocol.md). A correction and a withdrawal name the grade's version as the
roster shows it (the server's, kept current by each acknowledgement: roster.py), so that a change
made meanwhile elsewhere is refused by the server instead of overwritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk import protocol
from kiosk import roster as rosters
from kiosk.desk import UserError

if TYPE_CHECKING:
    from kiosk.desk import TeacherSession
    from kiosk.outbox import Entry

GRADES = frozenset(protocol.DEFS["ongoing_grade"]["enum"])
MAX_DESCRIPTION = protocol.limit("description")
MAX_DESCRIPTIVE = protocol.limit("descriptive")


class GradeDesk:
    """Mixed into the agent; these are the agent's (desk.py), named for the type checker."""

    if TYPE_CHECKING:

        def t(self, text: str, **values: Any) -> str: ...
        def _require(self) -> TeacherSession: ...
        def _roster_of(self, lesson_id: int) -> dict[str, Any]: ...
        def _pupils(self, lesson_id: int) -> dict[int, str]: ...
        def _entry(
            self,
            kind: str,
            lesson_id: int,
            payload: dict[str, Any],
            summary: str,
            key: str | None = None,
        ) -> Entry: ...

    def _invalid(self) -> UserError:
        return UserError(self.t("Nieprawidłowe dane."), code="invalid")

    def _what(
        self, roster: dict[str, Any], value: str, descriptive: str | None, category_id: int | None
    ) -> tuple[str | None, str | None]:
        """(value, descriptive) checked: one of them, as the protocol allows."""
        if descriptive is not None:
            descriptive = descriptive.strip()
            if not descriptive:
                raise UserError(self.t("Wpisz ocenę opisową."), code="invalid")
            if len(descriptive) > MAX_DESCRIPTIVE:
                raise UserError(self.t("Ocena opisowa jest za długa."), code="invalid")
            value_out: str | None = None
        else:
            value_out = (value or "").strip()
            if value_out not in GRADES:
                raise UserError(self.t("Wybierz ocenę."), code="invalid")
        categories = {int(c["id"]) for c in roster.get("categories", [])}
        if category_id is not None and category_id not in categories:
            raise self._invalid()
        return value_out, descriptive

    def _description(self, description: str) -> str:
        description = (description or "").strip()
        if len(description) > MAX_DESCRIPTION:
            raise self._invalid()
        return description

    def add_grade(
        self,
        lesson_id: int,
        pupil_id: int,
        category_id: int | None,
        value: str,
        description: str,
        key: str | None = None,
        *,
        descriptive: str | None = None,
        improves_id: int | None = None,
    ) -> Entry:
        """A new grade; with `improves_id`, a poprawa of one of the pupil's grades shown."""
        roster = self._roster_of(lesson_id)
        pupils = self._pupils(lesson_id)
        if pupil_id not in pupils:
            raise UserError(self.t("Wybierz ocenę."), code="invalid")
        value_out, descriptive = self._what(roster, value, descriptive, category_id)
        description = self._description(description)
        shown = value_out or self.t("opisowa")
        if improves_id is not None:
            try:
                pupil, improved = rosters.grade_in(roster, improves_id)
            except KeyError:
                raise self._invalid() from None
            if pupil["id"] != pupil_id:
                raise self._invalid()
            summary = self.t(
                "Poprawa {old} → {value} — {pupil}",
                old=improved.get("value") or self.t("opisowa"),
                value=shown,
                pupil=pupils[pupil_id],
            )
        else:
            summary = self.t("Ocena {value} — {pupil}", value=shown, pupil=pupils[pupil_id])
        payload = protocol.grade_payload(
            pupil_id,
            value_out or "",
            category_id,
            description,
            descriptive=descriptive,
            improves_id=improves_id,
        )
        return self._entry("grade", lesson_id, payload, summary, key)

    def pupil_grades(self, lesson_id: int, pupil_id: int) -> list[dict[str, Any]]:
        """The pupil's grades as the server last said (this term, the lesson's subject), for the
        dialog's chips: the teacher's own can be corrected or withdrawn, any can be improved."""
        roster = self._roster_of(lesson_id)
        pupil = next((p for p in roster.get("pupils", []) if p["id"] == pupil_id), None)
        if pupil is None:
            raise self._invalid()
        today = str(roster["lesson"].get("date") or "")
        return [{**g, "today": g.get("given_on") == today} for g in pupil.get("grades") or []]

    def _own(self, roster: dict[str, Any], grade_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            pupil, grade = rosters.grade_in(roster, grade_id)
        except KeyError:
            raise self._invalid() from None
        if not grade.get("mine"):
            raise UserError(self.t("Poprawić lub usunąć można tylko własną ocenę."), code="not_own")
        return pupil, grade

    def correct_grade(
        self,
        lesson_id: int,
        grade_id: int,
        category_id: int | None,
        value: str,
        description: str,
        key: str | None = None,
        *,
        descriptive: str | None = None,
    ) -> Entry:
        """The teacher's own grade, corrected (its old value stays in the server's history)."""
        roster = self._roster_of(lesson_id)
        pupil, grade = self._own(roster, grade_id)
        value_out, descriptive = self._what(roster, value, descriptive, category_id)
        description = self._description(description)
        summary = self.t(
            "Korekta {old} → {value} — {pupil}",
            old=grade.get("value") or self.t("opisowa"),
            value=value_out or self.t("opisowa"),
            pupil=pupil["name"],
        )
        payload = protocol.grade_correction_payload(
            grade_id, int(grade["version"]), value_out, descriptive, category_id, description
        )
        return self._entry("grade_correction", lesson_id, payload, summary, key)

    def remove_grade(self, lesson_id: int, grade_id: int, key: str | None = None) -> Entry:
        roster = self._roster_of(lesson_id)
        pupil, grade = self._own(roster, grade_id)
        summary = self.t(
            "Usunięto ocenę {value} — {pupil}",
            value=grade.get("value") or self.t("opisowa"),
            pupil=pupil["name"],
        )
        payload = protocol.grade_removal_payload(grade_id, int(grade["version"]))
        return self._entry("grade_removal", lesson_id, payload, summary, key)
