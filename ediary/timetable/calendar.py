"""Which days have lessons: the one place the regeneration of lessons asks.

The hook for the school calendar (issue 14; the gmina helper builds days off in ediary/schools):
when a calendar of days off exists, `is_school_day` asks it. Until then, weekends only, and the
dates outside the school year are not asked about (the caller stays inside the year).
"""

from __future__ import annotations

import datetime as dt

from ediary.schools.models import School


def is_school_day(school: School, date: dt.date) -> bool:
    return date.weekday() < 5
