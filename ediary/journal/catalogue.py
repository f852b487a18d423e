"""Every event type, declared once: its audience and its payload fields (house rule 6).

Payloads carry what a parent's screen needs and nothing more: no other pupil, no staff internals.
Tests check each type's audience (tests/test_journal.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Audience(enum.StrEnum):
    PUPIL = "pupil"  # the pupil's guardians, the form tutor and the pupil's teachers
    CLASS = "class"  # everyone who may see the class: guardians of its pupils, tutor, teachers
    KIOSK = "kiosk"  # one enrolled device


@dataclass(frozen=True)
class EventType:
    name: str
    audience: Audience
    fields: frozenset[str]
    doc: str


def _event(name: str, audience: Audience, fields: str, doc: str) -> EventType:
    return EventType(name, audience, frozenset(fields.split()), doc)


_PUPIL_LESSON = "pupil_id lesson_id date slot_number subject"
_GRADE = (
    "pupil_id grade_id subject kind value descriptive category weight description given_on"
    " teacher improves_id"
)
_REMARK = "pupil_id remark_id kind text given_on teacher"

EVENT_TYPES: dict[str, EventType] = {
    e.name: e
    for e in (
        _event(
            "attendance.recorded",
            Audience.PUPIL,
            f"{_PUPIL_LESSON} code name counts_as excused previous_code",
            "A pupil's attendance in a lesson was recorded or changed.",
        ),
        _event("grade.added", Audience.PUPIL, _GRADE, "A new grade or mark."),
        _event("grade.changed", Audience.PUPIL, _GRADE, "A grade was corrected."),
        _event(
            "grade.removed", Audience.PUPIL, "pupil_id grade_id subject", "A grade was withdrawn."
        ),
        _event("remark.added", Audience.PUPIL, _REMARK, "A new remark (uwaga)."),
        _event("remark.changed", Audience.PUPIL, _REMARK, "A remark was corrected."),
        _event("remark.removed", Audience.PUPIL, "pupil_id remark_id", "A remark was withdrawn."),
        _event(
            "lesson.topic",
            Audience.CLASS,
            "class_id lesson_id date slot_number subject topic",
            "A lesson's topic was entered or changed (the lesson took place).",
        ),
        _event(
            "lesson.cancelled",
            Audience.CLASS,
            "class_id lesson_id date slot_number subject",
            "A lesson was cancelled.",
        ),
        _event("kiosk.revoked", Audience.KIOSK, "kiosk_id", "The device's enrollment was revoked."),
        # Excuses (issue 5): no reason text and no note in the payload, only what changed.
        _event(
            "excuse.requested",
            Audience.PUPIL,
            "pupil_id excuse_id status first_date last_date absences",
            "A guardian asked the form tutor to excuse absences.",
        ),
        _event(
            "excuse.decided",
            Audience.PUPIL,
            "pupil_id excuse_id status first_date last_date absences",
            "The form tutor approved or rejected an excuse request.",
        ),
    )
}
