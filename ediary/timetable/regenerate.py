"""Changing the timetable from a date regenerates the future lessons only.

`regenerate` makes the lessons of [from_date, end of the school year] agree with the weekly plan
in force on each day, and never touches a lesson that is past (begun), or has entries (a topic,
attendance, grades, remarks), or that a person decided on (cancelled, substituted): those stay as
they were, and the plan's new lesson is not put next to one of them in the same slot. Each class
whose lessons changed hears it once (`timetable.changed`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.diary.models import Attendance, Grade, Remark
from ediary.journal.operations import publish
from ediary.schools.calendar import days_off
from ediary.schools.models import School
from ediary.schools.queries import school_today
from ediary.timetable.grid import year_of
from ediary.timetable.models import BellSlot, Lesson, LessonStatus, TimetableEntry
from ediary.timetable.operations import local_datetime


@operation
def apply_timetable(actor: Actor, school: School, from_date: dt.date) -> dict[str, int]:
    """The director's "apply the plan from this date" for the whole school."""
    return regenerate(school, from_date)


def _with_entries(lesson_ids: list[int]) -> set[int]:
    """Lessons somebody recorded something in."""
    found: set[int] = set()
    for model in (Attendance, Grade, Remark):
        for chunk in range(0, len(lesson_ids), 500):
            part = lesson_ids[chunk : chunk + 500]
            found.update(
                i
                for i in db.session.scalars(
                    select(model.lesson_id).where(model.lesson_id.in_(part)).distinct()
                )
                if i is not None
            )
    return found


def regenerate(
    school: School, from_date: dt.date, class_ids: set[int] | None = None
) -> dict[str, int]:
    """Runs inside an operation (apply_timetable, set_cell, an import's commit)."""
    start = max(from_date, school_today(school))
    end = year_of(school, start).ends_on
    now = utcnow()
    slots = {
        s.number: s
        for s in db.session.scalars(select(BellSlot).where(BellSlot.school_id == school.id))
    }
    query = select(Lesson).where(
        Lesson.school_id == school.id, Lesson.date >= start, Lesson.date <= end
    )
    if class_ids is not None:
        query = query.where(Lesson.class_id.in_(class_ids))
    lessons = list(db.session.scalars(query))
    recorded = _with_entries([lesson.id for lesson in lessons])

    def kept(lesson: Lesson) -> bool:
        return (
            lesson.status is not LessonStatus.PLANNED
            or lesson.substitute_for_id is not None
            or bool(lesson.topic)
            or lesson.id in recorded
            or lesson.starts_at <= now
            or lesson.timetable_entry_id is None  # made by hand, not from the plan
        )

    by_day: dict[dt.date, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        by_day[lesson.date].append(lesson)
    counts = {"added": 0, "removed": 0, "changed": 0}
    touched: dict[int, dict[str, int]] = defaultdict(
        lambda: {"added": 0, "removed": 0, "changed": 0}
    )
    entries = db.session.scalars(
        select(TimetableEntry)
        .options(joinedload(TimetableEntry.assignment))
        .where(
            TimetableEntry.school_id == school.id,
            TimetableEntry.valid_from <= end,
            TimetableEntry.valid_to >= start,
            TimetableEntry.slot_number.in_(slots),
        )
    ).unique()
    by_weekday: dict[int, list[TimetableEntry]] = defaultdict(list)
    for entry in entries:
        if class_ids is None or entry.assignment.class_id in class_ids:
            by_weekday[entry.weekday].append(entry)
    off = {d.date for d in days_off(school, start, end)}  # one query, not one per day
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in off:
            wanted = {
                e.id: e for e in by_weekday[day.weekday()] if e.valid_from <= day <= e.valid_to
            }
            fixed = []
            for lesson in by_day.get(day, []):
                if kept(lesson):
                    fixed.append(lesson)
                elif lesson.timetable_entry_id not in wanted:
                    db.session.delete(lesson)
                    counts["removed"] += 1
                    touched[lesson.class_id]["removed"] += 1
                else:  # made from an entry still in force: its room may have changed
                    entry = wanted.pop(lesson.timetable_entry_id)
                    if lesson.room_id != entry.room_id:
                        lesson.room_id = entry.room_id
                        counts["changed"] += 1
                        touched[lesson.class_id]["changed"] += 1
            for entry in wanted.values():
                a = entry.assignment
                if any(
                    f.slot_number == entry.slot_number
                    and (f.timetable_entry_id == entry.id or _same(f, a.class_id, a.group_id))
                    for f in fixed
                ):
                    continue
                slot = slots[entry.slot_number]
                starts_at = local_datetime(school, day, slot.starts_at)
                if starts_at <= now:
                    continue  # a lesson of the past is not made after the fact
                db.session.add(
                    Lesson(
                        school_id=school.id,
                        timetable_entry_id=entry.id,
                        date=day,
                        slot_number=entry.slot_number,
                        starts_at=starts_at,
                        ends_at=local_datetime(school, day, slot.ends_at),
                        class_id=a.class_id,
                        group_id=a.group_id,
                        subject_id=a.subject_id,
                        teacher_id=a.teacher_id,
                        room_id=entry.room_id,
                    )
                )
                counts["added"] += 1
                touched[a.class_id]["added"] += 1
        day += dt.timedelta(days=1)
    for class_id, changed in sorted(touched.items()):
        publish(
            "timetable.changed",
            school_id=school.id,
            audience_id=class_id,
            class_id=class_id,
            from_date=start.isoformat(),
            added=changed["added"],
            removed=changed["removed"],
            changed=changed["changed"],
        )
    return counts


def _same(lesson: Lesson, class_id: int, group_id: int | None) -> bool:
    if lesson.class_id != class_id:
        return False
    return lesson.group_id is None or group_id is None or lesson.group_id == group_id
