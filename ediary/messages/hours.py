"""Staff working hours and the right to disconnect: a message to a teacher outside their hours
reaches the inbox at once, but its e-mail waits until their next working day starts.

Read inside the flush that queues notifications (notifications/enqueue.py), so it works on the
flush's connection with plain selects.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from ediary.messages.models import (
    DEFAULT_WORK_DAYS,
    DEFAULT_WORK_FROM,
    DEFAULT_WORK_UNTIL,
    WorkingHours,
)
from ediary.people.models import Membership, Role

WARSAW = ZoneInfo("Europe/Warsaw")
STAFF_ROLES = (Role.TEACHER, Role.SECRETARY, Role.SCHOOL_ADMIN)


def parse_days(days: str) -> set[int]:
    return {int(d) for d in days.split(",") if d.isdigit() and int(d) < 7}


def next_working_start(
    now: dt.datetime, days: set[int], starts: dt.time, ends: dt.time
) -> dt.datetime | None:
    """None when `now` is inside the working hours; else when they next begin (UTC). With no
    working day at all, a week ahead: nobody is held forever."""
    local = now.astimezone(WARSAW)
    if local.weekday() in days and starts <= local.time() < ends:
        return None
    for ahead in range(8):
        day = local.date() + dt.timedelta(days=ahead)
        begin = dt.datetime.combine(day, starts, tzinfo=WARSAW)
        if day.weekday() in days and begin > local:
            return begin.astimezone(dt.UTC)
    return (local + dt.timedelta(days=7)).astimezone(dt.UTC)


def held_until(
    connection: Connection, user_ids: set[int], now: dt.datetime
) -> dict[int, dt.datetime]:
    """Staff among `user_ids` who are outside their working hours now → when to notify them."""
    if not user_ids:
        return {}
    staff = set(
        connection.scalars(
            select(Membership.user_id).where(
                Membership.user_id.in_(user_ids), Membership.role.in_(STAFF_ROLES)
            )
        )
    )
    if not staff:
        return {}
    own = {
        row.user_id: row
        for row in connection.execute(
            select(
                WorkingHours.user_id, WorkingHours.days, WorkingHours.starts, WorkingHours.ends
            ).where(WorkingHours.user_id.in_(staff))
        )
    }
    held = {}
    for user_id in staff:
        row = own.get(user_id)
        days = parse_days(row.days if row else DEFAULT_WORK_DAYS)
        starts = row.starts if row else DEFAULT_WORK_FROM
        ends = row.ends if row else DEFAULT_WORK_UNTIL
        when = next_working_start(now, days, starts, ends)
        if when is not None:
            held[user_id] = when
    return held
