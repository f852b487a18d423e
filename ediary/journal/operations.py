"""Writing journal events: only operations call `publish` (house rule 3).

`publish` refuses to run outside an operation (`UnauditedWrite`), as an audited write does: an
event is part of the operation's transaction, and its delivery after commit (realtime/delivery.py)
is the transaction's, not the caller's.

One overload per payload of the catalogue (ediary/journal/catalogue.py): mypy checks that a
caller names a known type and gives exactly its fields, with their types; at run time the
fields are checked again (a caller that mypy cannot follow, a `**dict`, is still refused).
tests/test_events.py keeps these overloads and the catalogue in step.
"""

from __future__ import annotations

from typing import Any, Literal, Unpack, overload

from ediary.audit.recording import current_actor
from ediary.journal.catalogue import (
    EVENT_TYPES,
    AnnouncementPublished,
    AttendanceRecorded,
    BehaviourGraded,
    ExcuseRequested,
    GradeAdded,
    GradeProposed,
    GradeRemoved,
    HomeworkChanged,
    KioskRevoked,
    LessonCancelled,
    LessonSubstituted,
    LessonTopic,
    MessageRead,
    MessageReceived,
    RemarkAdded,
    RemarkRemoved,
    TimetableChanged,
)
from ediary.journal.models import JournalEvent
from ediary.realtime import delivery


class UnknownEvent(ValueError):
    pass


# The overloads name the payload of each type (a type whose payload extends another's, such as
# grade.changed's, shares the overload of the one it extends: the same fields).
@overload
def publish(
    type_name: Literal["attendance.recorded"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[AttendanceRecorded],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["grade.added", "grade.changed"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[GradeAdded],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["grade.removed"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[GradeRemoved],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["grade.proposed"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[GradeProposed],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["remark.added", "remark.changed"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[RemarkAdded],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["remark.removed"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[RemarkRemoved],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["lesson.topic"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[LessonTopic],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["lesson.cancelled"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[LessonCancelled],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["lesson.substituted"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[LessonSubstituted],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["timetable.changed"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[TimetableChanged],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["homework.changed"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[HomeworkChanged],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["kiosk.revoked"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[KioskRevoked],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["excuse.requested", "excuse.decided"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[ExcuseRequested],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["behaviour.graded"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[BehaviourGraded],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["message.received"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[MessageReceived],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["message.read"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[MessageRead],
) -> JournalEvent: ...
@overload
def publish(
    type_name: Literal["announcement.published"],
    *,
    school_id: int,
    audience_id: int,
    **payload: Unpack[AnnouncementPublished],
) -> JournalEvent: ...
def publish(type_name: str, *, school_id: int, audience_id: int, **payload: Any) -> JournalEvent:
    """Adds a journal row to the operation's transaction; delivery happens after commit."""
    event_type = EVENT_TYPES.get(type_name)
    if event_type is None:
        raise UnknownEvent(type_name)
    if set(payload) != event_type.fields:
        raise UnknownEvent(f"{type_name}: fields {sorted(set(payload) ^ event_type.fields)}")
    current_actor(f"publish({type_name!r})")
    row = JournalEvent(
        type=type_name,
        school_id=school_id,
        audience=event_type.audience.value,
        audience_id=audience_id,
        payload=payload,
    )
    delivery.hold(row)  # numbered at the commit
    return row
