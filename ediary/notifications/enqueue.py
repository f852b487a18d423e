"""Journal events become queued e-mails and SMS in the same transaction (the durable queue).

A session listener, like the history writer (`audit/recording.py`): whichever operation
publishes an event, the messages its readers asked for are inserted by the flush that writes
the event, so the event and its messages commit together or not at all. Nothing is sent here;
`sender.py` sends outside any request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, event, func, insert, or_, select
from sqlalchemy.orm import Session, UOWTransaction

from ediary.db import utcnow
from ediary.journal.models import JournalEvent
from ediary.notifications.models import (
    Channel,
    MessageKind,
    NotificationPreference,
    OutgoingMessage,
    SchoolNotificationPolicy,
    Topic,
)
from ediary.people.models import User
from ediary.schools.models import GroupMembership, Guardianship, Pupil
from ediary.timetable.models import Lesson, LessonStatus

WARSAW = ZoneInfo("Europe/Warsaw")


def topics_of(connection: Connection, row: JournalEvent) -> list[Topic]:
    """What an event is about, most specific first; empty for events nobody is told of."""
    payload = row.payload
    if row.type == "grade.added":
        return [Topic.GRADE]
    if row.type == "remark.added":
        return [Topic.REMARK]
    if row.type != "attendance.recorded":
        return []
    if payload["counts_as"] != "absent" or payload["excused"]:
        return []
    if payload["previous_code"] == payload["code"]:
        return []
    if _is_first_lesson(connection, payload):
        return [Topic.FIRST_ABSENCE, Topic.ABSENCE]
    return [Topic.ABSENCE]


def _is_first_lesson(connection: Connection, payload: dict[str, Any]) -> bool:
    """The pupil's first lesson of that day that was not cancelled (the class's or a group's)."""
    pupil = connection.execute(
        select(Pupil.class_id).where(Pupil.id == payload["pupil_id"])
    ).scalar_one()
    groups = select(GroupMembership.group_id).where(GroupMembership.pupil_id == payload["pupil_id"])
    first = connection.execute(
        select(func.min(Lesson.slot_number)).where(
            Lesson.class_id == pupil,
            Lesson.date == dt.date.fromisoformat(payload["date"]),
            Lesson.status != LessonStatus.CANCELLED,
            or_(Lesson.group_id.is_(None), Lesson.group_id.in_(groups)),
        )
    ).scalar()
    return first is not None and payload["slot_number"] <= first


def next_local_time(at: dt.time, now: dt.datetime) -> dt.datetime:
    """The next moment the clock in Warsaw shows `at` (today's if still ahead)."""
    local = now.astimezone(WARSAW)
    candidate = dt.datetime.combine(local.date(), at, tzinfo=WARSAW)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=WARSAW)
    return candidate.astimezone(dt.UTC)


def messages_for(
    connection: Connection, row: JournalEvent, now: dt.datetime
) -> list[dict[str, Any]]:
    topics = topics_of(connection, row)
    if not topics:
        return []
    pref = NotificationPreference
    readers = connection.execute(
        select(
            pref.user_id,
            pref.email.label("by_email"),
            pref.sms.label("by_sms"),
            pref.first_absence,
            pref.absence,
            pref.grade,
            pref.remark,
            pref.digest,
            pref.digest_at,
            User.email,
            User.phone,
        )
        .join(User, User.id == pref.user_id)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.pupil_id == row.payload["pupil_id"], User.active.is_(True))
    ).mappings()
    policy = connection.execute(
        select(SchoolNotificationPolicy.urgent_topics).where(
            SchoolNotificationPolicy.school_id == row.school_id
        )
    ).scalar()
    urgent_topics = set((policy or "").split(","))
    rows = []
    for reader in readers:
        topic = next((t for t in topics if reader[t.value]), None)
        if topic is None:
            continue
        urgent = topic.value in urgent_topics
        digest = bool(reader["digest"]) and not urgent
        due = next_local_time(reader["digest_at"], now) if digest else now
        for channel in _channels(reader):
            rows.append(
                {
                    "event_id": row.id,
                    "user_id": reader["user_id"],
                    "school_id": row.school_id,
                    "channel": channel,
                    "kind": MessageKind.EVENT,
                    "topic": topic.value,
                    "event_type": row.type,
                    "payload": dict(row.payload),
                    "urgent": urgent,
                    "digest": digest,
                    "created_at": now,
                    "next_attempt_at": due,
                }
            )
    return rows


def _channels(reader: Any) -> Iterable[Channel]:
    """The channels a parent chose that have an address on file."""
    if reader["by_email"] and reader["email"]:
        yield Channel.EMAIL
    if reader["by_sms"] and reader["phone"]:
        yield Channel.SMS


@event.listens_for(Session, "after_flush")
def _queue_messages(session: Session, _ctx: UOWTransaction) -> None:
    events = [obj for obj in session.new if isinstance(obj, JournalEvent)]
    if not events:
        return
    connection = session.connection()
    now = utcnow()
    rows = [
        m for row in sorted(events, key=lambda e: e.id) for m in messages_for(connection, row, now)
    ]
    if rows:
        connection.execute(insert(OutgoingMessage), rows)
