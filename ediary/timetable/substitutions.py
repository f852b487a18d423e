"""Substitutions (zastępstwa) for a day: the absent teacher's lessons and, for each, the free
teachers ranked: who teaches that class first, then that subject, then whoever substituted least
this month (issue 14 item 3), and for a group's lesson the other lessons in that time it may
merge into. A teacher absent for a range of days: the same, for each school day of the range.
Reads only; the writes are `substitute_lesson`, `cancel_lesson`, `merge_lesson` (`plan_absence`).

A day's lessons of the school are read once and the ranking is done in Python: a school has a few
hundred lessons a day at most, and one query beats one per teacher and lesson.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ediary.db import db
from ediary.errors import Refusal
from ediary.people.models import Membership, Role, User
from ediary.schools.calendar import days_off
from ediary.schools.models import Pupil, School
from ediary.schools.queries import year_of
from ediary.timetable.models import Lesson, LessonStatus, TeachingAssignment
from ediary.timetable.queries import pupils_of, roster

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
    # Lessons in the same time its group may join (a group's lesson only): another group of
    # the class, or the same subject, with a present teacher, and no pupil in both.
    merges: list[Lesson] = field(default_factory=list)

    @property
    def proposal(self) -> str:
        """The choice the planning form starts with: the best substitute, else merging, else
        cancelling; a lesson already planned keeps what it has."""
        if self.lesson.substitute_for_id is not None:
            return f"t{self.teacher.id}"
        if self.candidates:
            return f"t{self.candidates[0].teacher.id}"
        if self.merges:
            return f"m{self.merges[0].id}"
        return "cancel"


MAX_SCHOOL_DAYS = 30  # a range longer than this is a long-term leave: a new timetable, not this


def school_days(school: School, first: dt.date, last: dt.date) -> list[dt.date]:
    """The days of the range that have lessons (weekdays that are not days off)."""
    off = {d.date for d in days_off(school, first, last)}
    count = (last - first).days + 1
    days = (first + dt.timedelta(days=n) for n in range(max(count, 0)))
    return [d for d in days if d.weekday() < 5 and d not in off]


def check_range(school: School, first: dt.date, last: dt.date) -> list[dt.date]:
    """The school days of an absence from `first` to `last`, or a refusal a person can read."""
    if last < first:
        raise Refusal("range_reversed", _l("Data „do” jest wcześniejsza niż data „od”."))
    year = year_of(school.id, first)
    if year is None or first > year.ends_on or last > year.ends_on:
        raise Refusal(
            "range_outside_year",
            _l("Nieobecność musi mieścić się w roku szkolnym."),
        )
    if (last - first).days > 2 * MAX_SCHOOL_DAYS:
        raise Refusal(
            "range_too_long",
            _l(
                "Najwyżej %(n)s dni nauki naraz; dłuższą nieobecność zaplanuj w częściach.",
                n=MAX_SCHOOL_DAYS,
            ),
        )
    days = school_days(school, first, last)
    if len(days) > MAX_SCHOOL_DAYS:
        raise Refusal(
            "range_too_long",
            _l(
                "Najwyżej %(n)s dni nauki naraz; dłuższą nieobecność zaplanuj w częściach.",
                n=MAX_SCHOOL_DAYS,
            ),
        )
    return days


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
        result.append(AbsentLesson(lesson, now, candidates, merge_targets(lesson, lessons, absent)))
    return result


def merge_targets(lesson: Lesson, day: list[Lesson], absent: User) -> list[Lesson]:
    """The lessons of `day` a group's lesson may join (see `AbsentLesson.merges`)."""
    if lesson.group_id is None or lesson.status is not LessonStatus.PLANNED:
        return []
    others = [
        other
        for other in day
        if other.id != lesson.id
        and other.status is LessonStatus.PLANNED
        and other.teacher_id != absent.id
        and other.starts_at < lesson.ends_at
        and other.ends_at > lesson.starts_at
        and (other.class_id == lesson.class_id or other.subject_id == lesson.subject_id)
    ]
    if not others:
        return []
    ours = set(db.session.scalars(select(Pupil.id).where(pupils_of(lesson))))
    return [other for other in others if not ours & {p.id for p in roster(other)}]


def absent_days(
    school: School, absent: User, days: list[dt.date]
) -> list[tuple[dt.date, list[AbsentLesson]]]:
    """`absent_lessons` of each day of the range that has some."""
    found = ((day, absent_lessons(school, absent, day)) for day in days)
    return [(day, lessons) for day, lessons in found if lessons]


def changes_of_day(school: School, day: dt.date) -> list[tuple[Lesson, User, User | None]]:
    """The staff room's list: each substituted or cancelled lesson of the day, with its
    timetable teacher and its substitute (None for a cancellation; for a merged lesson, the
    teacher of the lesson its group joined)."""
    rows: list[tuple[Lesson, User, User | None]] = []
    for lesson in day_lessons(school, day):
        if lesson.status is LessonStatus.CANCELLED:
            absent_id = lesson.substitute_for_id or lesson.teacher_id
            into = db.session.get(Lesson, lesson.merged_into_id) if lesson.merged_into_id else None
            joined = db.session.get_one(User, into.teacher_id) if into is not None else None
            rows.append((lesson, db.session.get_one(User, absent_id), joined))
        elif lesson.substitute_for_id is not None:
            absent = db.session.get_one(User, lesson.substitute_for_id)
            rows.append((lesson, absent, db.session.get_one(User, lesson.teacher_id)))
    return rows
