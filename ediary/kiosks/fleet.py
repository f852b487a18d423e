"""The fleet's read side: every kiosk of some schools with its state and alerts, and the counts
per school. The director's page, the district's fleet page and the district's 8:15 board all
read it from here.

Two queries whatever the number of kiosks: the kiosks with their rooms, schools, last report
(`KioskStatus`, one row per kiosk) and teacher; and the rooms with a lesson now (an index on
`lessons.date`). Nothing is scanned per heartbeat: the reports are kept in place.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, scoped_session

from ediary.kiosks.heartbeat import OFFLINE_AFTER
from ediary.kiosks.models import Kiosk, KioskOutage, KioskStatus
from ediary.people.models import User
from ediary.schools.models import Room, School
from ediary.timetable.models import Lesson, LessonStatus

# The callers pass `db.session` (scoped) or a plain session (the board's benchmark).
Reader = Session | scoped_session[Session]

# An entry the kiosk has held this long without the server acknowledging it is an alert.
STUCK_AFTER = dt.timedelta(minutes=10)


class State(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    STUCK = "stuck"  # online, but an entry has waited over STUCK_AFTER
    REVOKED = "revoked"
    NOT_ENROLLED = "not_enrolled"


class Alert(enum.StrEnum):
    OFFLINE_IN_LESSON = "offline_in_lesson"  # offline (or never seen) while its room has a lesson
    STUCK_OUTBOX = "stuck_outbox"  # holds an entry older than STUCK_AFTER (as last reported)


@dataclass(frozen=True)
class KioskState:
    kiosk_id: int
    name: str
    school_id: int
    school_name: str
    room_id: int
    room_name: str
    state: State
    connected: bool
    last_seen_at: dt.datetime | None
    agent_version: str | None
    outbox_depth: int
    outbox_parked: int
    oldest_unsent_at: dt.datetime | None
    oldest_unsent_seconds: int | None
    teacher_id: int | None
    teacher_name: str | None
    lesson_now: bool
    alerts: tuple[Alert, ...]


@dataclass
class FleetCounts:
    school_id: int
    total: int = 0
    by_state: dict[State, int] = field(default_factory=lambda: {s: 0 for s in State})
    alerts: int = 0
    # The oldest unsent entry of any kiosk of the school (the board's "stuck outbox").
    oldest_unsent_at: dt.datetime | None = None

    @property
    def online(self) -> int:
        return self.by_state[State.ONLINE]

    @property
    def offline(self) -> int:
        return self.by_state[State.OFFLINE]

    @property
    def stuck(self) -> int:
        return self.by_state[State.STUCK]


def _state(row: Any, now: dt.datetime) -> State:
    if row.revoked_at is not None:
        return State.REVOKED
    if row.secret_hash is None:
        return State.NOT_ENROLLED
    if not _online(row, now):
        return State.OFFLINE
    if _stuck(row, now):
        return State.STUCK
    return State.ONLINE


def _online(status: Any, now: dt.datetime) -> bool:
    """`status`: a `KioskStatus` or a row with its columns (None: never seen)."""
    return (
        status is not None
        and bool(status.connected)
        and status.last_seen_at is not None
        and now - status.last_seen_at <= OFFLINE_AFTER
    )


def _stuck(status: Any, now: dt.datetime) -> bool:
    return (
        status is not None
        and bool(status.outbox_depth)
        and status.oldest_unsent_at is not None
        and now - status.oldest_unsent_at > STUCK_AFTER
    )


def rooms_in_lesson(session: Reader, school_ids: Collection[int], now: dt.datetime) -> set[int]:
    """Rooms with a lesson (not cancelled) going on at `now`."""
    days = [(now + dt.timedelta(days=d)).date() for d in (-1, 0, 1)]  # any school's time zone
    return set(
        session.scalars(
            select(Lesson.room_id).where(
                Lesson.school_id.in_(school_ids),
                Lesson.date.in_(days),
                Lesson.starts_at <= now,
                Lesson.ends_at > now,
                Lesson.status != LessonStatus.CANCELLED,
            )
        )
    )


def fleet_states(
    session: Reader, school_ids: Collection[int], now: dt.datetime
) -> list[KioskState]:
    """Every kiosk of these schools, by school and room name."""
    if not school_ids:
        return []
    teacher = aliased(User)
    # Columns, not entities: the read is a table of a few hundred rows, not objects to change.
    rows = session.execute(
        select(
            Kiosk.id,
            Kiosk.name,
            Kiosk.school_id,
            Kiosk.room_id,
            Kiosk.secret_hash,
            Kiosk.revoked_at,
            Room.name.label("room_name"),
            School.name.label("school_name"),
            KioskStatus.connected,
            KioskStatus.last_seen_at,
            KioskStatus.agent_version,
            KioskStatus.outbox_depth,
            KioskStatus.outbox_parked,
            KioskStatus.oldest_unsent_at,
            KioskStatus.teacher_id,
            teacher.first_name,
            teacher.last_name,
        )
        .join(Room, Room.id == Kiosk.room_id)
        .join(School, School.id == Kiosk.school_id)
        .outerjoin(KioskStatus, KioskStatus.kiosk_id == Kiosk.id)
        .outerjoin(teacher, teacher.id == KioskStatus.teacher_id)
        .where(Kiosk.school_id.in_(school_ids))
        .order_by(School.name, Room.name, Kiosk.id)
    ).all()
    in_lesson = rooms_in_lesson(session, school_ids, now)
    states = []
    for row in rows:
        state = _state(row, now)
        online = state in (State.ONLINE, State.STUCK)
        lesson_now = row.room_id in in_lesson
        alerts: list[Alert] = []
        if state == State.OFFLINE and lesson_now:
            alerts.append(Alert.OFFLINE_IN_LESSON)
        if state not in (State.REVOKED, State.NOT_ENROLLED) and _stuck(row, now):
            alerts.append(Alert.STUCK_OUTBOX)
        oldest = row.oldest_unsent_at if row.outbox_depth else None
        teacher_id = row.teacher_id if online else None
        states.append(
            KioskState(
                kiosk_id=row.id,
                name=row.name,
                school_id=row.school_id,
                school_name=row.school_name,
                room_id=row.room_id,
                room_name=row.room_name,
                state=state,
                connected=online,
                last_seen_at=row.last_seen_at,
                agent_version=row.agent_version,
                outbox_depth=row.outbox_depth or 0,
                outbox_parked=row.outbox_parked or 0,
                oldest_unsent_at=oldest,
                oldest_unsent_seconds=(
                    max(0, int((now - oldest).total_seconds())) if oldest is not None else None
                ),
                teacher_id=teacher_id,
                teacher_name=(
                    f"{row.first_name} {row.last_name}"
                    if teacher_id is not None and row.first_name
                    else None
                ),
                lesson_now=lesson_now,
                alerts=tuple(alerts),
            )
        )
    return states


def count_states(states: Iterable[KioskState]) -> dict[int, FleetCounts]:
    """Counts per school of states already read (no query)."""
    counts: dict[int, FleetCounts] = {}
    for state in states:
        row = counts.setdefault(state.school_id, FleetCounts(state.school_id))
        row.total += 1
        row.by_state[state.state] += 1
        row.alerts += bool(state.alerts)
        if state.oldest_unsent_at is not None and (
            row.oldest_unsent_at is None or state.oldest_unsent_at < row.oldest_unsent_at
        ):
            row.oldest_unsent_at = state.oldest_unsent_at
    return counts


def fleet_counts(
    session: Reader, school_ids: Collection[int], now: dt.datetime
) -> dict[int, FleetCounts]:
    """Counts per school (every school asked for has a row, kiosks or not)."""
    counts = count_states(fleet_states(session, school_ids, now))
    return {school_id: counts.get(school_id, FleetCounts(school_id)) for school_id in school_ids}


@dataclass(frozen=True)
class Outage:
    started_at: dt.datetime
    ended_at: dt.datetime | None
    seconds: int
    queued: int | None


def outages(session: Reader, kiosk_id: int, now: dt.datetime, limit: int = 50) -> list[Outage]:
    """A kiosk's outages, newest first; an open one lasts until `now`."""
    rows = session.scalars(
        select(KioskOutage)
        .where(KioskOutage.kiosk_id == kiosk_id)
        .order_by(KioskOutage.started_at.desc(), KioskOutage.id.desc())
        .limit(limit)
    )
    found = [
        Outage(
            started_at=row.started_at,
            ended_at=row.ended_at,
            seconds=int(((row.ended_at or now) - row.started_at).total_seconds()),
            queued=row.queued,
        )
        for row in rows
    ]
    status = session.get(KioskStatus, kiosk_id)
    silent = status is not None and status.last_seen_at is not None and not _online(status, now)
    if (
        silent
        and status is not None
        and status.last_seen_at is not None
        and not any(o.ended_at is None for o in found)
    ):
        # Gone silent without a goodbye: the outage is written when it comes back.
        seconds = int((now - status.last_seen_at).total_seconds())
        found.insert(0, Outage(status.last_seen_at, None, seconds, None))
    return found
