"""What the pages read: a teacher's lessons to announce for, their announcements, a child's week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select

from ediary.audit.models import HistoryEntry
from ediary.db import db
from ediary.homework.models import Homework
from ediary.people.models import User
from ediary.schools.models import GroupMembership, Pupil
from ediary.timetable.models import Lesson, LessonStatus

AHEAD_DAYS = 42  # the lessons offered to move an announcement to: six weeks


def lessons_to_choose(user: User, lesson: Lesson, today: dt.date) -> list[Lesson]:
    """The teacher's coming lessons of the same class, group and subject (the lesson's date
    changes by picking another of them), the page's own lesson included."""
    first = min(today, lesson.date)
    return list(
        db.session.scalars(
            select(Lesson)
            .where(
                Lesson.teacher_id == user.id,
                Lesson.class_id == lesson.class_id,
                Lesson.subject_id == lesson.subject_id,
                Lesson.group_id.is_(None)
                if lesson.group_id is None
                else Lesson.group_id == lesson.group_id,
                Lesson.status != LessonStatus.CANCELLED,
                Lesson.date.between(first, today + dt.timedelta(days=AHEAD_DAYS)),
            )
            .order_by(Lesson.date, Lesson.slot_number)
        )
    )


def of_lesson(lesson: Lesson) -> list[Homework]:
    return list(
        db.session.scalars(
            select(Homework).where(Homework.lesson_id == lesson.id).order_by(Homework.id)
        )
    )


def announced_by(user: User, since: dt.date) -> list[Homework]:
    return list(
        db.session.scalars(
            select(Homework)
            .where(Homework.teacher_id == user.id, Homework.date >= since)
            .order_by(Homework.date, Homework.id)
        )
    )


# --- the parent's week ----------------------------------------------------------------------


@dataclass
class WeekLesson:
    lesson: Lesson
    homework: list[Homework] = field(default_factory=list)


@dataclass
class WeekDay:
    date: dt.date
    lessons: list[WeekLesson]


def groups_of(pupil: Pupil) -> list[int]:
    return list(
        db.session.scalars(
            select(GroupMembership.group_id).where(GroupMembership.pupil_id == pupil.id)
        )
    )


def week_of_pupil(pupil: Pupil, monday: dt.date) -> list[WeekDay]:
    """Monday to Friday: the child's lessons (substitutions and cancellations as they stand)
    and the tests and homework announced for them, withdrawn ones left out."""
    friday = monday + dt.timedelta(days=4)
    groups = groups_of(pupil)
    mine = or_(Lesson.group_id.is_(None), Lesson.group_id.in_(groups))
    lessons = db.session.scalars(
        select(Lesson)
        .where(Lesson.class_id == pupil.class_id, mine, Lesson.date.between(monday, friday))
        .order_by(Lesson.date, Lesson.slot_number, Lesson.id)
    ).all()
    announced = db.session.scalars(
        select(Homework)
        .where(
            Homework.class_id == pupil.class_id,
            or_(Homework.group_id.is_(None), Homework.group_id.in_(groups)),
            Homework.withdrawn.is_(False),
            Homework.lesson_id.in_([lesson.id for lesson in lessons]),
        )
        .order_by(Homework.id)
    ).all()
    by_lesson: dict[int, list[Homework]] = {}
    for homework in announced:
        by_lesson.setdefault(homework.lesson_id, []).append(homework)
    days = [WeekDay(monday + dt.timedelta(days=n), []) for n in range(5)]
    for lesson in lessons:
        days[(lesson.date - monday).days].lessons.append(
            WeekLesson(lesson, by_lesson.get(lesson.id, []))
        )
    return days


@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    by: str | None
    channel: str
    action: str
    old: dict[str, object]
    new: dict[str, object]


def history_of(homework: Homework) -> list[HistoryLine]:
    """Every change of the announcement, newest first, with who made it and through what."""
    rows = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == Homework.__tablename__, HistoryEntry.entity_id == homework.id)
        .order_by(HistoryEntry.id.desc())
    ).all()
    ids = {row.actor_id for row in rows if row.actor_id is not None}
    names = {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return [
        HistoryLine(
            row.at,
            names.get(row.actor_id) if row.actor_id is not None else None,
            row.channel,
            row.action,
            row.old or {},
            row.new or {},
        )
        for row in rows
    ]


def teacher_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}
