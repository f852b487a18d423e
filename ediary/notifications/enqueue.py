"""Journal events become queued e-mails and SMS in the same transaction (the durable queue).

Session listeners, like the history writer (`audit/recording.py`), installed by
`ediary.transactions`: whichever operation publishes an event, the messages its readers asked
for are inserted by the flush that writes the event, so the event and its messages commit
together or not at all. Who is told is read before the commit takes the journal's lock
(`plan_messages`); under the lock only the rows are inserted (`queue_planned`). Nothing is sent
here; `sender.py` sends outside any request.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Date,
    RowMapping,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Session, UOWTransaction

from ediary import bulk
from ediary.contacts.models import ContactKind
from ediary.contacts.queries import verified_address_of
from ediary.db import TransactionNotes, utcnow
from ediary.journal.models import JournalEvent
from ediary.messages.hours import held_until
from ediary.notifications.models import (
    Channel,
    MessageKind,
    MessageStatus,
    NotificationPreference,
    OutgoingMessage,
    OutgoingPush,
    PushChoice,
    PushSubscription,
    SchoolNotificationPolicy,
    Topic,
)
from ediary.notifications.pushqueue import PupilChoice, pushes_for
from ediary.people.models import User
from ediary.realtime import delivery
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
    if row.type == "message.received":
        return [Topic.MESSAGE]
    if row.type == "announcement.published":
        return [Topic.ANNOUNCEMENT]
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
    runs at every commit of a roll."""
    if not absences:
        return {}
    params = {
        "pupil_ids": sorted({row.payload["pupil_id"] for row in absences}),
        "days": sorted({dt.date.fromisoformat(row.payload["date"]) for row in absences}),
    }
    return {
        (pupil_id, day.isoformat()): first
        for pupil_id, day, first in connection.execute(_first_slots_query(), params)
    }


@functools.cache
def _first_slots_query() -> Any:
    # Built once, run with expanding parameters: a roll's commit runs it, and building it anew
    # (a join, a subquery, a grouping) cost more than running it.
    groups = select(GroupMembership.group_id).where(GroupMembership.pupil_id == Pupil.id)
    return (
        select(Pupil.id, Lesson.date, func.min(Lesson.slot_number))
        .join(Lesson, Lesson.class_id == Pupil.class_id)
        .where(
            Pupil.id.in_(bindparam("pupil_ids", expanding=True)),
            Lesson.date.in_(bindparam("days", type_=Date, expanding=True)),
            Lesson.status != LessonStatus.CANCELLED,
            or_(Lesson.group_id.is_(None), Lesson.group_id.in_(groups)),
        )
        .group_by(Pupil.id, Lesson.date)
    )


@functools.cache
def _guardians_query() -> Any:
    """The active guardians of some pupils, each with their notification preferences and
    verified addresses (None without a preference row) and, a row each, their push choices for
    some topics with each of their devices: an entry's e-mail and SMS readers and its Web Push
    choices in one statement (two before). Built once: every commit of an entry runs it; the
    pupils and topics are expanding parameters (no topics: no choices)."""
    pref = NotificationPreference
    return (
        select(
            *_preference_columns(Guardianship.pupil_id),
            Guardianship.user_id.label("guardian_id"),
            PushChoice.topic.label("push_topic"),
            PushSubscription.id.label("subscription_id"),
        )
        .select_from(Guardianship)
        .join(User, User.id == Guardianship.user_id)
        .outerjoin(pref, pref.user_id == Guardianship.user_id)
        .outerjoin(
            PushChoice,
            (PushChoice.user_id == Guardianship.user_id)
            & (PushChoice.pupil_id == Guardianship.pupil_id)
            & PushChoice.topic.in_(bindparam("topics", expanding=True)),
        )
        .outerjoin(PushSubscription, PushSubscription.user_id == PushChoice.user_id)
        .where(
            Guardianship.pupil_id.in_(bindparam("pupil_ids", expanding=True)),
            User.active.is_(True),
        )
        .order_by(Guardianship.pupil_id, Guardianship.user_id)
    )


def _guardians(
    connection: Connection, pupil_ids: set[int], push_topics: set[str]
) -> tuple[dict[int, list[RowMapping]], list[PupilChoice]]:
    """Pupil id → the notification preferences and verified addresses of its active guardians
    (who have preferences), and the guardians' push choices of `push_topics` for these pupils,
    one per device (`pushes_for` reads them as it reads its own query's rows)."""
    readers: dict[int, list[RowMapping]] = {}
    choices: list[PupilChoice] = []
    if not pupil_ids:
        return readers, choices
    params = {"pupil_ids": sorted(pupil_ids), "topics": sorted(push_topics)}
    seen: set[tuple[int, int]] = set()
    for row in connection.execute(_guardians_query(), params).mappings():
        pupil_id, user_id = row["pupil_id"], row["guardian_id"]
        if row["user_id"] is not None and (pupil_id, user_id) not in seen:
            seen.add((pupil_id, user_id))  # one row per device and choice: the reader once
            readers.setdefault(pupil_id, []).append(row)
        if row["subscription_id"] is not None:
            choice = PupilChoice(user_id, pupil_id, row["push_topic"], row["subscription_id"])
            choices.append(choice)
    return readers, choices


def _readers(connection: Connection, pupil_ids: set[int]) -> dict[int, list[RowMapping]]:
    """Pupil id → the notification preferences and verified addresses of its active
    guardians."""
    return _guardians(connection, pupil_ids, set())[0]


def _event_readers(
    connection: Connection, told: list[JournalEvent]
) -> dict[JournalEvent, list[RowMapping]]:
    """Event → its readers, for the events not about one pupil: a message (its recipient,
    parent or staff) and an announcement (the guardians of the class's pupils, once each)."""
    pref = NotificationPreference
    readers: dict[JournalEvent, list[RowMapping]] = {}
    people = {row.audience_id for row in told if row.type == "message.received"}
    if people:
        found = connection.execute(
            _preferences(pref.user_id.label("key")).where(
                pref.user_id.in_(people), User.active.is_(True)
            )
        ).mappings()
        by_user = {reader["user_id"]: reader for reader in found}
        for row in told:
            if row.type == "message.received" and row.audience_id in by_user:
                readers[row] = [by_user[row.audience_id]]
    classes = {row.audience_id for row in told if row.type == "announcement.published"}
    if classes:
        found = connection.execute(
            _preferences(Pupil.class_id.label("key"))
            .join(Guardianship, Guardianship.user_id == User.id)
            .join(Pupil, Pupil.id == Guardianship.pupil_id)
            .where(Pupil.class_id.in_(classes), User.active.is_(True))
            .distinct()
            .order_by(Pupil.class_id, pref.user_id)
        ).mappings()
        by_class: dict[int, list[RowMapping]] = {}
        for reader in found:
            by_class.setdefault(reader["key"], []).append(reader)
        # A school-wide announcement is one event per class: a parent with children in two
        # classes is told once (the first class's event), not once per child.
        told_of: set[tuple[int, int]] = set()
        for row in told:
            if row.type == "announcement.published":
                readers[row] = []
                for reader in by_class.get(row.audience_id, []):
                    key = (row.payload["announcement_id"], reader["user_id"])
                    if key not in told_of:
                        told_of.add(key)
                        readers[row].append(reader)
    return readers


def _preferences(key: Any) -> Any:
    """The columns `messages_for` reads of a reader, keyed by `key`, from users and their
    preferences (the caller joins whatever names its readers)."""
    return select(*_preference_columns(key)).join(User, User.id == NotificationPreference.user_id)


def _preference_columns(key: Any) -> list[Any]:
    pref = NotificationPreference
    return [
        key,
        pref.user_id,
        pref.email.label("by_email"),
        pref.sms.label("by_sms"),
        pref.first_absence,
        pref.absence,
        pref.grade,
        pref.remark,
        pref.first_cancelled,
        pref.message,
        pref.announcement,
        pref.digest,
        pref.digest_at,
        # Only addresses their owners proved (ediary/contacts): never one just typed in.
        verified_address_of(pref.user_id, ContactKind.EMAIL).label("email"),
        verified_address_of(pref.user_id, ContactKind.PHONE).label("phone"),
    ]


@functools.cache
def _urgent_topics_query() -> Any:
    policy = SchoolNotificationPolicy
    return select(policy.school_id, policy.urgent_topics).where(
        policy.school_id.in_(bindparam("school_ids", expanding=True))
    )


def _urgent_topics(connection: Connection, school_ids: set[int]) -> dict[int, set[str]]:
    policies = connection.execute(_urgent_topics_query(), {"school_ids": sorted(school_ids)})
    return {school_id: set((urgent or "").split(",")) for school_id, urgent in policies}


class _UrgentTopics(Mapping[int, set[str]]):
    """The schools' urgent topics (`_urgent_topics`), read at the first question: most entries
    are told to nobody by e-mail, SMS or push (a remark, a present pupil's roll), and then the
    policy is never needed."""

    def __init__(self, connection: Connection, school_ids: set[int]) -> None:
        self.connection, self.school_ids = connection, school_ids
        self.found: dict[int, set[str]] | None = None

    def _policies(self) -> dict[int, set[str]]:
        if self.found is None:
            self.found = _urgent_topics(self.connection, self.school_ids)
        return self.found

    def __getitem__(self, school_id: int) -> set[str]:
        return self._policies()[school_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._policies())

    def __len__(self) -> int:
        return len(self._policies())


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
    urgent_topics: Mapping[int, set[str]],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The e-mails and SMS of `row` for its `readers`; `urgent_topics`: school id → its urgent
    topics, asked only for a reader who chose one of the row's topics."""
    rows = []
    for reader in readers:
        # Topics without an e-mail/SMS choice (excuse decisions) are Web Push only.
        topic = next((t for t in topics if reader.get(t.value)), None)
        if topic is None:
            continue
        urgent = topic.value in urgent_topics.get(row.school_id, set())
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


class Planned(NamedTuple):
    """A row to queue for a journal event (`values` without its `event_id` until the event has
    one), or, with `table` None, the note that an event was planned and has nothing to queue."""

    event: JournalEvent
    table: type[OutgoingMessage] | type[OutgoingPush] | None
    values: dict[str, Any]


# The outgoing rows of a transaction's journal rows, found before its commit takes the journal's
# lock (`plan_messages`), inserted once the rows are numbered under it (`queue_planned`).
PLANNED: TransactionNotes[Planned] = TransactionNotes("ediary.notifications.planned")


def plan_messages(session: Session) -> None:
    """`before_commit`, before the journal's lock is taken (realtime/delivery.py): who is told
    of the transaction's held journal rows, and how, is read now, while other writers go on, so
    that under the lock only the INSERTs are left (`queue_planned`)."""
    if session.get_nested_transaction() is not None:
        return  # a savepoint's release: the whole transaction is planned at its commit
    planned = {id(note.event) for note in PLANNED.get(session)}
    events = [row for row in delivery.held(session) if id(row) not in planned]
    if not events:
        return
    found = _outgoing(session.connection(), events, utcnow())
    PLANNED.add(session, [Planned(row, None, {}) for row in events] + found)


def queue_planned(session: Session) -> None:
    """`before_commit`, after `delivery.number_events` gave the held journal rows their ids:
    the messages and pushes planned for them before the lock (`plan_messages`), inserted now,
    under it, so the events and their messages commit together or not at all."""
    if session.get_nested_transaction() is not None:
        return  # a savepoint's release: the whole transaction is queued at its commit
    notes = [note for note in PLANNED.get(session) if note.event.id is not None]
    events = {id(note.event): note.event for note in notes}
    queue_first_cancelled(session, sorted(events.values(), key=lambda e: e.id))
    _insert(session, notes)


def queue_messages(session: Session, _ctx: UOWTransaction) -> None:
    """`after_flush`: the messages and pushes of journal rows written by a flush rather than
    held for the commit. None is today: every journal row is held and numbered at the commit,
    where `queue_planned` queues its messages. Such a row would be planned here, under the
    lock (tests/realtime/test_delivery.py publishes one to hold this)."""
    events = sorted(
        (obj for obj in session.new if isinstance(obj, JournalEvent)), key=lambda e: e.id
    )
    if events:
        queue_first_cancelled(session, events)
        _insert(session, _outgoing(session.connection(), events, utcnow()))


def _insert(session: Session, notes: list[Planned]) -> None:
    """The planned rows of each table in one statement (`bulk.insert_rows`: a roll's absences
    queue an e-mail or two each)."""
    connection = session.connection()
    for model in (OutgoingPush, OutgoingMessage):
        values = [
            note.values | {"event_id": note.event.id} for note in notes if note.table is model
        ]
        bulk.insert_rows(connection, cast(Table, model.__table__), values)  # none: nothing


def _outgoing(
    connection: Connection, events: list[JournalEvent], now: dt.datetime
) -> list[Planned]:
    """The Web Pushes, e-mails and SMS of `events` (in publishing order), as rows to insert."""
    # A constant number of queries for all the events, not a few per event: a roll of 25 pupils
    # is one commit of 25 events.
    first_slots = _first_slots(connection, [row for row in events if _is_new_absence(row)])
    topics = {row: topics_of(row, first_slots) for row in events}
    told = [row for row in events if topics[row]]
    if not told:
        return []
    urgent = _UrgentTopics(connection, {row.school_id for row in told})
    about_pupils = [row for row in told if "pupil_id" in row.payload]
    by_pupil, choices = _guardians(
        connection,
        {row.payload["pupil_id"] for row in about_pupils},
        {topic.value for row in told for topic in topics[row]},
    )
    found = [
        Planned(row, OutgoingPush, values)  # Web Push: notifications/pushqueue.py
        for row, values in pushes_for(connection, told, topics, urgent, now, choices)
    ]
    readers = {row: by_pupil.get(row.payload["pupil_id"], []) for row in about_pupils}
    readers.update(_event_readers(connection, [row for row in told if row not in readers]))
    if not any(readers.values()):
        return found
    messages = [
        Planned(row, OutgoingMessage, message)
        for row in told
        for message in messages_for(row, topics[row], readers.get(row, []), urgent, now)
    ]
    # The right to disconnect: a message's notice to staff waits for their working hours.
    held = held_until(
        connection,
        {m.values["user_id"] for m in messages if m.values["topic"] == Topic.MESSAGE.value},
        now,
    )
    for message in messages:
        values = message.values
        if values["topic"] == Topic.MESSAGE.value and values["user_id"] in held:
            values["next_attempt_at"] = max(values["next_attempt_at"], held[values["user_id"]])
    return found + messages


def queue_first_cancelled(session: Session, numbered: list[JournalEvent]) -> None:
    """Of journal rows just numbered (in id order): a cancelled lesson that was a pupil's first
    of the day, still ahead, is told to the guardians who chose it (`Topic.FIRST_CANCELLED`),
    with the lesson the day now starts with. Class events (`lesson.cancelled`) name no pupil, so
    this finds the pupils itself; a merged lesson is not cancelled for its pupils (they sit in
    the other group's)."""
    events = [row for row in numbered if row.type == "lesson.cancelled"]
    if not events:
        return
    connection = session.connection()
    now = utcnow()
    found = [
        (row, pupil_id, extra)
        for row in events
        for pupil_id, extra in _first_lesson_left(connection, row.payload["lesson_id"], now)
    ]
    if not found:
        return
    readers = _readers(connection, {pupil_id for _row, pupil_id, _extra in found})
    urgent = _urgent_topics(connection, {row.school_id for row in events})
    rows: dict[tuple[int, str, Channel], dict[str, Any]] = {}
    for row, pupil_id, extra in found:
        for reader in readers.get(pupil_id, []):
            if not reader[Topic.FIRST_CANCELLED.value]:
                continue
            for channel in _channels(reader):
                # A parent of two pupils of the class hears once per event (the queue's key).
                rows.setdefault(
                    (row.id, reader["user_id"], channel),
                    {
                        "event_id": row.id,
                        "user_id": reader["user_id"],
                        "school_id": row.school_id,
                        "channel": channel,
                        "kind": MessageKind.EVENT,
                        "topic": Topic.FIRST_CANCELLED.value,
                        "event_type": row.type,
                        "payload": dict(row.payload) | {"pupil_id": pupil_id} | extra,
                        "urgent": Topic.FIRST_CANCELLED.value in urgent.get(row.school_id, set()),
                        "digest": False,  # a digest at 18:00 would come after the lesson
                        "created_at": now,
                        "next_attempt_at": now,
                    },
                )
    # The commit writes a whole save's events in one flush (realtime/delivery.py): several
    # cancellations of one pupil's day replace each other here as `_drop_superseded` replaces
    # those of earlier commits, the latest event's message kept (events are in id order).
    latest: dict[tuple[int, int, str, Channel], dict[str, Any]] = {}
    for message in rows.values():
        payload = message["payload"]
        latest[(message["user_id"], payload["pupil_id"], payload["date"], message["channel"])] = (
            message
        )
    if not latest:
        return
    _drop_superseded(connection, list(latest.values()))
    connection.execute(insert(OutgoingMessage), list(latest.values()))


def _first_lesson_left(
    connection: Connection, lesson_id: int, now: dt.datetime
) -> list[tuple[int, dict[str, Any]]]:
    """The pupils for whom the cancelled lesson was the first of its day (no lesson they sit in
    before it), each with what the day now starts with; nothing for a lesson already begun."""
    lesson = connection.execute(select(Lesson).where(Lesson.id == lesson_id)).one()
    if lesson.starts_at <= now or lesson.merged_into_id is not None:
        return []
    pupils = select(Pupil.id).where(Pupil.class_id == lesson.class_id, Pupil.active.is_(True))
    if lesson.group_id is not None:
        pupils = pupils.join(GroupMembership, GroupMembership.pupil_id == Pupil.id).where(
            GroupMembership.group_id == lesson.group_id
        )
    pupil_ids = list(connection.scalars(pupils))
    if not pupil_ids:
        return []
    groups = select(GroupMembership.group_id).where(GroupMembership.pupil_id == Pupil.id)
    held = connection.execute(
        select(Pupil.id, Lesson.slot_number, Lesson.starts_at)
        .join(Lesson, Lesson.class_id == Pupil.class_id)
        .where(
            Pupil.id.in_(pupil_ids),
            Lesson.date == lesson.date,
            # A merged lesson's pupils sit in the other group's lesson in the same slot.
            or_(Lesson.status != LessonStatus.CANCELLED, Lesson.merged_into_id.is_not(None)),
            or_(Lesson.group_id.is_(None), Lesson.group_id.in_(groups)),
        )
        .order_by(Lesson.slot_number)
    )
    first: dict[int, tuple[int, dt.datetime]] = {}
    for pupil_id, slot, starts_at in held:
        first.setdefault(pupil_id, (slot, starts_at))
    result = []
    for pupil_id in pupil_ids:
        left = first.get(pupil_id)
        if left is not None and left[0] < lesson.slot_number:
            continue  # the pupil's day starts earlier, as before
        extra = {
            "before": _aware(lesson.starts_at).isoformat(),
            "first_slot": left[0] if left else None,
            "first_at": _aware(left[1]).astimezone(WARSAW).strftime("%H:%M") if left else None,
        }
        result.append((pupil_id, extra))
    return result


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _drop_superseded(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """A second cancellation of the same day (the whole absent day saved lesson by lesson)
    replaces the parent's message still waiting: they get one, with the day as it is now."""
    waiting = connection.execute(
        select(OutgoingMessage.id, OutgoingMessage.user_id, OutgoingMessage.payload).where(
            OutgoingMessage.topic == Topic.FIRST_CANCELLED.value,
            OutgoingMessage.status == MessageStatus.PENDING,
            OutgoingMessage.user_id.in_({row["user_id"] for row in rows}),
        )
    ).all()
    fresh = {(row["user_id"], row["payload"]["pupil_id"], row["payload"]["date"]) for row in rows}
    stale = [
        message_id
        for message_id, user_id, payload in waiting
        if (user_id, payload.get("pupil_id"), payload.get("date")) in fresh
    ]
    if stale:
        connection.execute(delete(OutgoingMessage).where(OutgoingMessage.id.in_(stale)))
