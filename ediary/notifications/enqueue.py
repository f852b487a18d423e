"""Journal events become queued e-mails and SMS in the same transaction (the durable queue).

A session listener, like the history writer (`audit/recording.py`), installed by
`ediary.transactions`: whichever operation publishes an event, the messages its readers asked
for are inserted by the flush that writes the event, so the event and its messages commit
together or not at all. Nothing is sent here; `sender.py` sends outside any request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RowMapping, func, insert, or_, select
from sqlalchemy.orm import Session, UOWTransaction

from ediary.contacts.models import ContactKind
from ediary.contacts.queries import verified_address_of
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
from ediary.notifications.pushqueue import queue_pushes
from ediary.people.models import User
from ediary.schools.models import GroupMembership, Guardianship, Pupil
from ediary.timetable.models import Lesson, LessonStatus

WARSAW = ZoneInfo("Europe/Warsaw")


def _is_new_absence(row: JournalEvent) -> bool:
    payload = row.payload
    return (
        row.type == "attendance.recorded"
        and payload["counts_as"] == "absent"
        and not payload["excused"]
        and payload["previous_code"] != payload["code"]
    )


def topics_of(row: JournalEvent, first_slots: Mapping[tuple[int, str], int]) -> list[Topic]:
    """What an event is about, most specific first; empty for events nobody is told of.
    `first_slots`: see `_first_slots`."""
    if row.type == "grade.added":
        return [Topic.GRADE]
    if row.type == "remark.added":
        return [Topic.REMARK]
    if row.type == "excuse.decided":
        return [Topic.EXCUSE_DECISION]
    if not _is_new_absence(row):
        return []
    first = first_slots.get((row.payload["pupil_id"], row.payload["date"]))
    if first is not None and row.payload["slot_number"] <= first:
        return [Topic.FIRST_ABSENCE, Topic.ABSENCE]
    return [Topic.ABSENCE]


def _first_slots(
    connection: Connection, absences: list[JournalEvent]
) -> dict[tuple[int, str], int]:
    """(pupil id, ISO date) → the slot of the pupil's first lesson that day that was not
    cancelled (the class's or one of the pupil's groups'), for all absences in one query: this
    runs inside the flush, under the journal lock (realtime/delivery.py)."""
    if not absences:
        return {}
    pupil_ids = {row.payload["pupil_id"] for row in absences}
    days = {dt.date.fromisoformat(row.payload["date"]) for row in absences}
    groups = select(GroupMembership.group_id).where(GroupMembership.pupil_id == Pupil.id)
    query = (
        select(Pupil.id, Lesson.date, func.min(Lesson.slot_number))
        .join(Lesson, Lesson.class_id == Pupil.class_id)
        .where(
            Pupil.id.in_(pupil_ids),
            Lesson.date.in_(days),
            Lesson.status != LessonStatus.CANCELLED,
            or_(Lesson.group_id.is_(None), Lesson.group_id.in_(groups)),
        )
        .group_by(Pupil.id, Lesson.date)
    )
    return {
        (pupil_id, day.isoformat()): first for pupil_id, day, first in connection.execute(query)
    }


def _readers(connection: Connection, pupil_ids: set[int]) -> dict[int, list[RowMapping]]:
    """Pupil id → the notification preferences and verified addresses of its active
    guardians."""
    pref = NotificationPreference
    rows = connection.execute(
        select(
            Guardianship.pupil_id,
            pref.user_id,
            pref.email.label("by_email"),
            pref.sms.label("by_sms"),
            pref.first_absence,
            pref.absence,
            pref.grade,
            pref.remark,
            pref.digest,
            pref.digest_at,
            # Only addresses their owners proved (ediary/contacts): never one just typed in.
            verified_address_of(pref.user_id, ContactKind.EMAIL).label("email"),
            verified_address_of(pref.user_id, ContactKind.PHONE).label("phone"),
        )
        .join(User, User.id == pref.user_id)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.pupil_id.in_(pupil_ids), User.active.is_(True))
        .order_by(Guardianship.pupil_id, pref.user_id)
    ).mappings()
    readers: dict[int, list[RowMapping]] = {}
    for reader in rows:
        readers.setdefault(reader["pupil_id"], []).append(reader)
    return readers


def _urgent_topics(connection: Connection, school_ids: set[int]) -> dict[int, set[str]]:
    policies = connection.execute(
        select(SchoolNotificationPolicy.school_id, SchoolNotificationPolicy.urgent_topics).where(
            SchoolNotificationPolicy.school_id.in_(school_ids)
        )
    )
    return {school_id: set((urgent or "").split(",")) for school_id, urgent in policies}


def next_local_time(at: dt.time, now: dt.datetime) -> dt.datetime:
    """The next moment the clock in Warsaw shows `at` (today's if still ahead)."""
    local = now.astimezone(WARSAW)
    candidate = dt.datetime.combine(local.date(), at, tzinfo=WARSAW)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=WARSAW)
    return candidate.astimezone(dt.UTC)


def messages_for(
    row: JournalEvent,
    topics: list[Topic],
    readers: list[RowMapping],
    urgent_topics: set[str],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    rows = []
    for reader in readers:
        # Topics without an e-mail/SMS choice (excuse decisions) are Web Push only.
        topic = next((t for t in topics if reader.get(t.value)), None)
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


def queue_messages(session: Session, _ctx: UOWTransaction) -> None:
    """`after_flush`: the messages of the journal events this flush wrote."""
    events = sorted(
        (obj for obj in session.new if isinstance(obj, JournalEvent)), key=lambda e: e.id
    )
    if not events:
        return
    # A constant number of queries per flush, not a few per event: a roll of 25 pupils would
    # otherwise spend most of its time under the journal lock here (realtime/delivery.py).
    connection = session.connection()
    first_slots = _first_slots(connection, [row for row in events if _is_new_absence(row)])
    topics = {row.id: topics_of(row, first_slots) for row in events}
    told = [row for row in events if topics[row.id]]
    if not told:
        return
    urgent = _urgent_topics(connection, {row.school_id for row in told})
    now = utcnow()
    queue_pushes(connection, told, topics, urgent, now)  # Web Push: notifications/pushqueue.py
    told = [row for row in told if "pupil_id" in row.payload]
    readers = _readers(connection, {row.payload["pupil_id"] for row in told})
    if not readers:
        return
    rows = [
        message
        for row in told
        for message in messages_for(
            row,
            topics[row.id],
            readers.get(row.payload["pupil_id"], []),
            urgent.get(row.school_id, set()),
            now,
        )
    ]
    if rows:
        connection.execute(insert(OutgoingMessage), rows)
