"""The school calendar the demo needs: the school year around a date, and which days have lessons.

Rules from the regulation on the organisation of the school year: lessons start on the first
weekday of September (the Monday after, when 1 September is a Friday or a Saturday) and end on the
first Friday after 20 June; no lessons on public holidays, over Christmas (23-31 December) and over
Easter (Thursday before to Tuesday after). Winter holidays differ per voivodeship; the demo keeps
lessons through them.
"""

from __future__ import annotations

import datetime as dt

# Public holidays on fixed dates (24 December is one since 2025).
_FIXED_HOLIDAYS = frozenset(
    {(1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11), (12, 24), (12, 25), (12, 26)}
)


def easter(year: int) -> dt.date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def first_day(year: int) -> dt.date:
    september = dt.date(year, 9, 1)
    if september.weekday() in (4, 5):  # Friday, Saturday: the Monday after
        return september + dt.timedelta(days=7 - september.weekday())
    if september.weekday() == 6:
        return september + dt.timedelta(days=1)
    return september


def last_day(year: int) -> dt.date:
    """The first Friday after 20 June of `year`."""
    day = dt.date(year, 6, 21)
    return day + dt.timedelta(days=(4 - day.weekday()) % 7)


def term_two_start(year: int) -> dt.date:
    """The first Monday of February of `year` (schools set it themselves; this is common)."""
    day = dt.date(year, 2, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def school_year(today: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """(first day, first day of term two, last day) of the school year `today` belongs to."""
    # July and August belong to the year that ended in June.
    start_year = today.year if today.month >= 9 else today.year - 1
    return first_day(start_year), term_two_start(start_year + 1), last_day(start_year + 1)


def is_school_day(day: dt.date) -> bool:
    if day.weekday() >= 5 or (day.month, day.day) in _FIXED_HOLIDAYS:
        return False
    if day.month == 12 and day.day >= 23:
        return False
    sunday = easter(day.year)
    movable = {sunday + dt.timedelta(days=1), sunday + dt.timedelta(days=60)}  # Corpus Christi
    easter_break = sunday - dt.timedelta(days=3) <= day <= sunday + dt.timedelta(days=2)
    return day not in movable and not easter_break


def demo_window(today: dt.date, past_weeks: int) -> list[dt.date]:
    """School days from the Monday `past_weeks` weeks back to the Friday of next week."""
    monday = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=past_weeks)
    days = (past_weeks + 2) * 7
    return [
        day for day in (monday + dt.timedelta(days=n) for n in range(days)) if is_school_day(day)
    ]
