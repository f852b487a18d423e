"""Every event type, declared once: its audience and its typed payload (house rule 6).

Payloads carry what a parent's screen needs and nothing more: no other pupil, no staff internals.
Each type's payload is a TypedDict: `publish` (journal/operations.py) has one overload per
payload, so mypy checks every caller's fields and their types, and at run time `publish`
refuses any other set of fields. Tests check each type's audience (tests/realtime/
test_audience.py) and, through `capture_events` (tests/events.py), that every operation
publishes exactly the events it should, with these fields and types.

Adding a type: its TypedDict here, its entry in `EVENT_TYPES`, its overload of `publish`, its
row in docs/protocol.md and its case in tests/test_events.py; a test fails for each one missing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypedDict


class Audience(enum.StrEnum):
    PUPIL = "pupil"  # the pupil's guardians, the form tutor and the pupil's teachers
    CLASS = "class"  # everyone who may see the class: guardians of its pupils, tutor, teachers
    KIOSK = "kiosk"  # one enrolled device
    # One person (a user account): their messages and read receipts, nobody else's. Not "user":
    # `user:<id>` is the control room every socket of a person joins (realtime/rooms.py).
    PERSON = "person"


# --- payloads: dates are ISO strings, names are what a parent reads ---------------------------


class LessonFields(TypedDict):
    """What every event about a lesson says of it."""

    lesson_id: int
    date: str
    slot_number: int
    subject: str


class AttendanceRecorded(LessonFields):
    pupil_id: int
    code: str
    name: str
    counts_as: str
    excused: bool
    previous_code: str | None


class GradeAdded(TypedDict):
    pupil_id: int
    grade_id: int
    subject: str
    kind: str
    value: str | None
    descriptive: str | None
    category: str | None
    weight: int | None
    description: str | None
    given_on: str
    teacher: str
    improves_id: int | None


class GradeChanged(GradeAdded):
    """The grade as it is after the correction."""


class GradeRemoved(TypedDict):
    pupil_id: int
    grade_id: int
    subject: str


class GradeProposed(TypedDict):
    """A proposed term or year grade (ocena przewidywana) was given, changed or withdrawn
    (`value` and `descriptive` both None). `late`: given after the statute's deadline."""

    pupil_id: int
    grade_id: int
    term_id: int
    subject: str
    kind: str
    value: str | None
    descriptive: str | None
    given_on: str
    teacher: str
    late: bool


class RemarkAdded(TypedDict):
    pupil_id: int
    remark_id: int
    kind: str
    text: str
    given_on: str
    teacher: str


class RemarkChanged(RemarkAdded):
    """The remark as it is after the correction."""


class RemarkRemoved(TypedDict):
    pupil_id: int
    remark_id: int


class LessonTopic(LessonFields):
    class_id: int
    topic: str


class LessonCancelled(LessonFields):
    class_id: int


class LessonSubstituted(LessonFields):
    """Another teacher takes the lesson: the substitute's name, as parents read it. A lesson
    merged into another group's (its teacher absent) says so: `merged` and where the pupils go
    (`merged_with`: the other lesson's group or class and room); `teacher` is that lesson's."""

    class_id: int
    teacher: str
    merged: bool
    merged_with: str  # empty unless merged


class TimetableChanged(TypedDict):
    """The class's lessons from `from_date` were made again from a changed plan: how many."""

    class_id: int
    from_date: str
    added: int
    removed: int
    changed: int


class KioskRevoked(TypedDict):
    kiosk_id: int


class ExcuseRequested(TypedDict):
    """No reason text and no note: only what changed (the portal fetches details over HTTP)."""

    pupil_id: int
    excuse_id: int
    status: str
    first_date: str
    last_date: str
    absences: int


class ExcuseDecided(ExcuseRequested):
    """`status` is the decision; approved absences follow as `attendance.recorded`."""


class HomeworkChanged(LessonFields):
    """A test or homework announced, changed (`change` "added" or "changed") or withdrawn, for
    the lesson it names; `group_id` when only a group of the class has it. No description: the
    portal reads it over HTTP."""

    class_id: int
    group_id: int | None
    homework_id: int
    kind: str
    change: str
    due_date: str | None


class BehaviourGraded(TypedDict):
    """The form tutor's proposed or final behaviour grade (`kind`), or the director's correction
    of the final one: the grade as it is now, `name` as parents read it."""

    pupil_id: int
    term_id: int
    term: int
    kind: str
    value: str
    name: str


class MessageReceived(TypedDict):
    """A message arrived in one of the person's threads; `unread`: their inbox's badge now."""

    thread_id: int
    message_id: int
    subject: str
    sender: str
    unread: int


class MessageRead(TypedDict):
    """A participant opened the thread: the sender's messages up to `message_id` were read."""

    thread_id: int
    message_id: int
    reader: str
    read_at: str


class AnnouncementPublished(TypedDict):
    """An announcement of the school or of the class (one event per class it reaches)."""

    class_id: int
    announcement_id: int
    title: str
    expires_on: str
    author: str


# --- the catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventType:
    name: str
    audience: Audience
    payload: type  # the TypedDict of its payload
    doc: str

    @property
    def fields(self) -> frozenset[str]:
        keys: frozenset[str] = self.payload.__required_keys__  # type: ignore[attr-defined]
        return keys


EVENT_TYPES: dict[str, EventType] = {
    e.name: e
    for e in (
        EventType(
            "attendance.recorded",
            Audience.PUPIL,
            AttendanceRecorded,
            "A pupil's attendance in a lesson was recorded or changed.",
        ),
        EventType("grade.added", Audience.PUPIL, GradeAdded, "A new grade or mark."),
        EventType("grade.changed", Audience.PUPIL, GradeChanged, "A grade was corrected."),
        EventType("grade.removed", Audience.PUPIL, GradeRemoved, "A grade was withdrawn."),
        EventType(
            "grade.proposed",
            Audience.PUPIL,
            GradeProposed,
            "A proposed term or year grade was given, changed or withdrawn.",
        ),
        EventType("remark.added", Audience.PUPIL, RemarkAdded, "A new remark (uwaga)."),
        EventType("remark.changed", Audience.PUPIL, RemarkChanged, "A remark was corrected."),
        EventType("remark.removed", Audience.PUPIL, RemarkRemoved, "A remark was withdrawn."),
        EventType(
            "lesson.topic",
            Audience.CLASS,
            LessonTopic,
            "A lesson's topic was entered or changed (the lesson took place).",
        ),
        EventType("lesson.cancelled", Audience.CLASS, LessonCancelled, "A lesson was cancelled."),
        EventType(
            "lesson.substituted",
            Audience.CLASS,
            LessonSubstituted,
            "Another teacher takes the lesson (a substitution).",
        ),
        EventType(
            "timetable.changed",
            Audience.CLASS,
            TimetableChanged,
            "The class's future lessons were made again from a changed timetable.",
        ),
        EventType(
            "homework.changed",
            Audience.CLASS,
            HomeworkChanged,
            "A test or homework was announced, changed or withdrawn.",
        ),
        EventType(
            "kiosk.revoked", Audience.KIOSK, KioskRevoked, "The device's enrollment was revoked."
        ),
        EventType(
            "excuse.requested",
            Audience.PUPIL,
            ExcuseRequested,
            "A guardian asked the form tutor to excuse absences.",
        ),
        EventType(
            "excuse.decided",
            Audience.PUPIL,
            ExcuseDecided,
            "The form tutor approved or rejected an excuse request.",
        ),
        EventType(
            "behaviour.graded",
            Audience.PUPIL,
            BehaviourGraded,
            "The form tutor set a proposed or final behaviour grade, or the director corrected it.",
        ),
        EventType(
            "message.received",
            Audience.PERSON,
            MessageReceived,
            "A message arrived for the person (ediary/messages).",
        ),
        EventType(
            "message.read",
            Audience.PERSON,
            MessageRead,
            "The recipient of the person's message read it (a read receipt).",
        ),
        EventType(
            "announcement.published",
            Audience.CLASS,
            AnnouncementPublished,
            "The director or the form tutor published an announcement.",
        ),
    )
}
