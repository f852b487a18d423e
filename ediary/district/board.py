"""The 8:15 board: has the day started everywhere? Per school of a gmina, for the lesson slot
under way and the day so far: lessons that should be running, rolls taken and missing (with the
rooms), substitutions and cancellations, the share of pupils absent in the first lesson, the
kiosks; and the gmina's totals.

Cost: a handful of grouped queries for the whole gmina, each reading the day's lessons through
`ix_lessons_school_date_slot` and the rolls through the attendance's `lesson_id` index (whether a
lesson has a roll is one index probe; the day's attendance is never scanned, only the first
lesson's rows for its absence share). bench/board.py prints what it costs for 10 and 100 schools.
No pupil and no parent: counts, shares and room names only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select

from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType, Presence
from ediary.district.kiosks import KioskCounts, kiosk_counts
from ediary.schools.calendar import days_off_of
from ediary.schools.models import District, Room, School
from ediary.timetable.models import BellSlot, Lesson, LessonStatus

LATE = dt.timedelta(minutes=10)  # a roll still missing this long into a lesson falls behind


@dataclass
class Slot:
    number: int
    starts_at: dt.datetime  # aware, UTC
    ends_at: dt.datetime


@dataclass
class SchoolBoard:
    school_id: int
    name: str
    day_off: bool = False
    slot: Slot | None = None  # the bell slot of the lessons under way, if they keep the bells
    slot_number: int | None = None  # the lesson number most lessons under way have
    in_hours: bool = False  # between the first bell and the last, or lessons under way
    running: int = 0  # lessons under way now that should be running (not cancelled)
    rolls: int = 0  # of those, with a roll taken
    late: int = 0  # of those without a roll, begun at least `LATE` ago
    missing_rooms: list[str] = field(default_factory=list)  # rooms of those without a roll
    day_lessons: int = 0  # lessons begun today so far (not cancelled)
    day_rolls: int = 0
    day_missing: int = 0
    substitutions: int = 0  # today's lessons taught by a substitute
    cancellations: int = 0
    first_present: int = 0
    first_absent: int = 0
    kiosks: KioskCounts = field(default_factory=KioskCounts)

    @property
    def missing(self) -> int:
        return self.running - self.rolls

    @property
    def first_absent_percent(self) -> Decimal | None:
        total = self.first_present + self.first_absent
        if total == 0:
            return None
        return (Decimal(100) * self.first_absent / total).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def late_rolls(self) -> bool:
        return self.late > 0

    @property
    def kiosk_offline(self) -> bool:
        return self.in_hours and self.kiosks.offline > 0

    @property
    def behind(self) -> bool:
        return self.late_rolls or self.kiosk_offline


@dataclass
class Board:
    district: District
    at: dt.datetime
    schools: list[SchoolBoard]

    def total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.schools)

    def kiosk_total(self, name: str) -> int:
        return sum(int(getattr(s.kiosks, name)) for s in self.schools)

    @property
    def behind(self) -> int:
        return sum(1 for s in self.schools if s.behind)

    @property
    def first_absent_percent(self) -> Decimal | None:
        present, absent = self.total("first_present"), self.total("first_absent")
        if present + absent == 0:
            return None
        return (Decimal(100) * absent / (present + absent)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _local_dates(schools: list[School], now: dt.datetime) -> dict[int, dt.date]:
    return {s.id: now.astimezone(ZoneInfo(s.timezone)).date() for s in schools}


def _slots(schools: list[School], dates: dict[int, dt.date]) -> dict[int, list[Slot]]:
    zones = {s.id: ZoneInfo(s.timezone) for s in schools}
    slots: dict[int, list[Slot]] = defaultdict(list)
    rows = db.session.execute(
        select(BellSlot.school_id, BellSlot.number, BellSlot.starts_at, BellSlot.ends_at)
        .where(BellSlot.school_id.in_(list(zones)))
        .order_by(BellSlot.number)
    )
    for school_id, number, starts_at, ends_at in rows:
        date, zone = dates[school_id], zones[school_id]
        slots[school_id].append(
            Slot(
                number,
                dt.datetime.combine(date, starts_at, zone).astimezone(dt.UTC),
                dt.datetime.combine(date, ends_at, zone).astimezone(dt.UTC),
            )
        )
    return slots


def _in_hours(slots: list[Slot], now: dt.datetime) -> bool:
    return bool(slots) and slots[0].starts_at <= now < slots[-1].ends_at


def board(district: District, now: dt.datetime) -> Board:
    """ "Now" is the lessons under way (begun, not ended), not the bell schedule: a lesson that
    started early, an extra one or a substitution's counts the same as any other."""
    schools = sorted(district.schools, key=lambda s: s.name)
    boards = {s.id: SchoolBoard(s.id, s.name) for s in schools}
    result = Board(district, now, list(boards.values()))
    if not schools:
        return result
    ids = list(boards)
    dates = _local_dates(schools, now)
    for date in set(dates.values()):
        for school_id in days_off_of([i for i in ids if dates[i] == date], date):
            boards[school_id].day_off = True
    slots = _slots(schools, dates)
    for school_id, school_board in boards.items():
        school_board.in_hours = not school_board.day_off and _in_hours(slots[school_id], now)
    has_roll = exists().where(Attendance.lesson_id == Lesson.id)
    # One row per lesson in a subquery, grouped outside it: PostgreSQL does not match a GROUP BY
    # expression with a bound parameter (`starts_at <= now`) to the same one in the SELECT list.
    lesson = (
        select(
            Lesson.school_id.label("school_id"),
            Lesson.date.label("date"),
            Lesson.slot_number.label("slot"),
            Lesson.status.label("status"),
            (Lesson.starts_at <= now).label("begun"),
            and_(Lesson.starts_at <= now, Lesson.ends_at > now).label("running"),
            (Lesson.starts_at <= now - LATE).label("late"),
            Lesson.substitute_for_id.is_not(None).label("substituted"),
            has_roll.label("rolled"),
        )
        .where(Lesson.school_id.in_(ids), Lesson.date.in_(sorted(set(dates.values()))))
        .subquery()
    )
    keys = [lesson.c[name] for name in ("school_id", "date", "slot", "status", "begun")]
    keys += [lesson.c.running, lesson.c.late, lesson.c.substituted, lesson.c.rolled]
    rows = db.session.execute(select(*keys, func.count()).group_by(*keys)).all()
    numbers: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        school_id, date, number, status, begun, running, late, substituted, rolled, n = tuple(row)
        b = boards[school_id]
        if date != dates[school_id] or b.day_off:
            continue  # a day off has no lessons due, even ones generated before it was set
        n = int(n)
        if status is LessonStatus.CANCELLED:
            b.cancellations += n
            continue
        if substituted:
            b.substitutions += n
        if begun:
            b.day_lessons += n
            b.day_rolls += n if rolled else 0
            b.day_missing += 0 if rolled else n
        if running:
            b.running += n
            b.rolls += n if rolled else 0
            b.late += 0 if rolled or not late else n
            numbers[school_id][number] += n
    for school_id, counted in numbers.items():
        b = boards[school_id]
        b.in_hours = True
        b.slot_number = max(counted, key=lambda number: counted[number])
        b.slot = next((s for s in slots[school_id] if s.number == b.slot_number), None)
    _missing_rooms(boards, dates, now, has_roll)
    _first_lesson(boards, dates)
    for school_id, counts in kiosk_counts(ids, now).items():
        boards[school_id].kiosks = counts
    return result


def _missing_rooms(
    boards: dict[int, SchoolBoard], dates: dict[int, dt.date], now: dt.datetime, has_roll: object
) -> None:
    """The rooms of the lessons under way that have no roll yet (few rows: only those)."""
    wanted = [i for i, b in boards.items() if b.missing]
    if not wanted:
        return
    rows = db.session.execute(
        select(Lesson.school_id, Lesson.date, Room.name)
        .join(Room, Room.id == Lesson.room_id)
        .where(
            Lesson.school_id.in_(wanted),
            Lesson.date.in_(sorted({dates[i] for i in wanted})),
            Lesson.starts_at <= now,
            Lesson.ends_at > now,
            Lesson.status != LessonStatus.CANCELLED,
            ~has_roll,  # type: ignore[operator]
        )
        .order_by(Room.name)
    )
    for school_id, date, room in rows:
        if date == dates[school_id]:
            boards[school_id].missing_rooms.append(room)


def _first_lesson(boards: dict[int, SchoolBoard], dates: dict[int, dt.date]) -> None:
    """Present and absent marks in each school's first lesson slot of the day."""
    ids = list(boards)
    day = Lesson.date.in_(sorted(set(dates.values())))
    first = (
        select(Lesson.school_id, Lesson.date, func.min(Lesson.slot_number).label("slot"))
        .where(Lesson.school_id.in_(ids), day, Lesson.status != LessonStatus.CANCELLED)
        .group_by(Lesson.school_id, Lesson.date)
        .subquery()
    )
    rows = db.session.execute(
        select(Lesson.school_id, Lesson.date, AttendanceType.counts_as, func.count())
        .join(
            first,
            and_(
                first.c.school_id == Lesson.school_id,
                first.c.date == Lesson.date,
                first.c.slot == Lesson.slot_number,
            ),
        )
        .join(Attendance, Attendance.lesson_id == Lesson.id)
        .join(AttendanceType, AttendanceType.id == Attendance.type_id)
        .where(Lesson.status != LessonStatus.CANCELLED)
        .group_by(Lesson.school_id, Lesson.date, AttendanceType.counts_as)
    )
    for school_id, date, counts_as, n in rows:
        b = boards[school_id]
        if date != dates[school_id] or b.day_off:
            continue
        if counts_as == Presence.PRESENT:
            b.first_present += int(n)
        else:
            b.first_absent += int(n)
