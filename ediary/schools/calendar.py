"""The school year's calendar: which dates of a school have lessons.

A school day is a weekday of the school that is not one of its days off (`DayOff`: holidays,
breaks, days the director freed). Lesson generation (`timetable.operations.ensure_lessons`)
skips days off; weekends have no timetable entries, so it needs no weekend rule of its own (and
a school that teaches on a Saturday, e.g. to make up a day, simply has entries for it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ediary.db import db
from ediary.schools.models import DayOff, School


def day_off(school: School | int, date: dt.date) -> DayOff | None:
    school_id = school if isinstance(school, int) else school.id
    return db.session.scalar(
        select(DayOff).where(DayOff.school_id == school_id, DayOff.date == date)
    )


def is_school_day(school: School | int, date: dt.date) -> bool:
    """A weekday that is not one of the school's days off."""
    return date.weekday() < 5 and day_off(school, date) is None


def days_off(school: School, since: dt.date, until: dt.date) -> list[DayOff]:
    return list(
        db.session.scalars(
            select(DayOff)
            .where(DayOff.school_id == school.id, DayOff.date >= since, DayOff.date <= until)
            .order_by(DayOff.date)
        )
    )


def days_off_of(school_ids: list[int], date: dt.date) -> set[int]:
    """The schools among `school_ids` that have `date` off (one query for a whole gmina)."""
    if not school_ids:
        return set()
    rows = db.session.scalars(
        select(DayOff.school_id).where(DayOff.school_id.in_(school_ids), DayOff.date == date)
    )
    return set(rows)
