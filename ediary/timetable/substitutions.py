"""Substitutions (zastępstwa) for a day: the absent teacher's lessons and, for each, the free
teachers ranked: who teaches that class first, then that subject, then whoever substituted least
this month (issue 14 item 3). Reads only; the writes are `substitute_lesson` and `cancel_lesson`.

A day's lessons of the school are read once and the ranking is done in Python: a school has a few
hundred lessons a day at most, and one query beats one per teacher and lesson.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from ediary.db import db
from ediary.people.models import Membership, Role, User
from ediary.schools.models import School
from ediary.timetable.models import Lesson, LessonStatus, TeachingAssignment

PROPOSED = 4  # buttons per lesson: the best few; the rest are in the list under them


@dataclass(frozen=True)
class Candidate:
    teacher: User
    teaches_class: bool
    teaches_subject: bool
    this_month: int  # substitutions taken this month

    @property
    def why(self) -> str:
        """A short reason in the page's order; the template translates the keys."""
        if self.teaches_class:
            return "class"
        if self.teaches_subject:
            return "subject"
        return "free"


@dataclass(frozen=True)
class AbsentLesson:
    lesson: Lesson
    teacher: User  # who teaches it now (the absent one, or the substitute already chosen)
    candidates: list[Candidate]


def school_teachers(school: School) -> list[User]:
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == school.id, Membership.role == Role.TEACHER)
        .order_by(User.last_name, User.first_name)
    )
    return list(db.session.scalars(query).unique())


def day_lessons(school: School, day: dt.date) -> list[Lesson]:
    query = (
        select(Lesson)
        .where(Lesson.school_id == school.id, Lesson.date == day)
        .order_by(Lesson.starts_at, Lesson.id)
    )
    return list(db.session.scalars(query))


def substitutions_this_month(school: School, day: dt.date) -> Counter[int]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    rows = db.session.execute(
        select(Lesson.teacher_id, func.count())
        .where(
            Lesson.school_id == school.id,
            Lesson.substitute_for_id.is_not(None),
            Lesson.status != LessonStatus.CANCELLED,
            Lesson.date >= first,
            Lesson.date < following,
        )
        .group_by(Lesson.teacher_id)
    )
    return Counter({teacher_id: count for teacher_id, count in rows})


def absent_lessons(school: School, absent: User, day: dt.date) -> list[AbsentLesson]:
    """The day's lessons the timetable gives `absent` (substituted already or not), with the
    ranked free teachers for each."""
    lessons = day_lessons(school, day)
    teachers = [t for t in school_teachers(school) if t.id != absent.id]
    by_id = {t.id: t for t in teachers} | {absent.id: absent}
    assignments = db.session.execute(
        select(
            TeachingAssignment.teacher_id,
            TeachingAssignment.class_id,
            TeachingAssignment.subject_id,
        ).where(TeachingAssignment.school_id == school.id)
    ).all()
    classes = {(t, c) for t, c, _s in assignments}
    subjects = {(t, s) for t, _c, s in assignments}
    month = substitutions_this_month(school, day)
    result = []
    for lesson in lessons:
        if absent.id not in (lesson.teacher_id, lesson.substitute_for_id):
            continue
        busy = {
            other.teacher_id
            for other in lessons
            if other.id != lesson.id
            and other.status is not LessonStatus.CANCELLED
            and other.starts_at < lesson.ends_at
            and other.ends_at > lesson.starts_at
        }
        candidates = [
            Candidate(
                t,
                (t.id, lesson.class_id) in classes,
                (t.id, lesson.subject_id) in subjects,
                month[t.id],
            )
            for t in teachers
            if t.id not in busy and t.id != lesson.teacher_id
        ]
        candidates.sort(
            key=lambda c: (
                not c.teaches_class,
                not c.teaches_subject,
                c.this_month,
                c.teacher.last_name,
                c.teacher.first_name,
            )
        )
        now = by_id.get(lesson.teacher_id) or db.session.get_one(User, lesson.teacher_id)
        result.append(AbsentLesson(lesson, now, candidates))
    return result


def changes_of_day(school: School, day: dt.date) -> list[tuple[Lesson, User, User | None]]:
    """The staff room's list: each substituted or cancelled lesson of the day, with its
    timetable teacher and its substitute (None for a cancellation)."""
    rows: list[tuple[Lesson, User, User | None]] = []
    for lesson in day_lessons(school, day):
        if lesson.status is LessonStatus.CANCELLED:
            absent_id = lesson.substitute_for_id or lesson.teacher_id
            rows.append((lesson, db.session.get_one(User, absent_id), None))
        elif lesson.substitute_for_id is not None:
            absent = db.session.get_one(User, lesson.substitute_for_id)
            rows.append((lesson, absent, db.session.get_one(User, lesson.teacher_id)))
    return rows
