"""A lesson's corrections, for its page (issue 15, item 3): the topic and every pupil's
attendance, old → new, who, when and through what (the history rows `@operation` writes).

Shown on the lesson page by one include (templates/gradebook/_lesson_history.html) through
the template global `lesson_changes`, so the timetable's view stays as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from ediary.audit.models import HistoryEntry
from ediary.audit.queries import CHANNEL_NAMES
from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType
from ediary.people.models import User
from ediary.schools.models import Pupil
from ediary.timetable.models import Lesson

SHOWN = 100


@dataclass(frozen=True)
class LessonChange:
    at: dt.datetime
    who: str | LazyString
    channel: str | LazyString
    what: str | LazyString  # the pupil's name, or "temat"
    old: str | None
    new: str | None


def lesson_changes(lesson: Lesson) -> list[LessonChange]:
    """Newest first. Creations of a roll's rows are not corrections and are left out; a topic
    written for the first time is shown (old: none)."""
    attendance = {
        a.id: a.pupil_id
        for a in db.session.scalars(select(Attendance).where(Attendance.lesson_id == lesson.id))
    }
    query = (
        select(HistoryEntry)
        .where(
            or_(
                and_(HistoryEntry.entity == "lessons", HistoryEntry.entity_id == lesson.id),
                and_(
                    HistoryEntry.entity == "attendance",
                    HistoryEntry.entity_id.in_(list(attendance) or [0]),
                    HistoryEntry.action == "update",
                ),
            )
        )
        .order_by(HistoryEntry.id.desc())
        .limit(SHOWN)
    )
    rows = list(db.session.scalars(query))
    users = _users({r.actor_id for r in rows if r.actor_id is not None})
    pupils = _pupils(set(attendance.values()))
    types = {
        t.id: f"{t.name} ({t.code})"
        for t in db.session.scalars(
            select(AttendanceType).where(AttendanceType.school_id == lesson.school_id)
        )
    }
    changes = []
    for row in rows:
        old, new = row.old or {}, row.new or {}
        if row.entity == "lessons":
            if "topic" not in new:
                continue
            what: str | LazyString = _l("temat lekcji")
            before, after = old.get("topic"), new.get("topic")
        else:
            what = pupils.get(attendance.get(row.entity_id or 0, 0), "?")
            before, after = types.get(old.get("type_id", 0)), types.get(new.get("type_id", 0))
        if before == after:
            continue  # a new lesson with no topic yet: nothing to read
        changes.append(
            LessonChange(
                at=row.at,
                who=users.get(row.actor_id or 0) or _l("system"),
                channel=CHANNEL_NAMES.get(row.channel, row.channel),
                what=what,
                old=before,
                new=after,
            )
        )
    return changes


def _users(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _pupils(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {p.id: p.full_name for p in db.session.scalars(select(Pupil).where(Pupil.id.in_(ids)))}
