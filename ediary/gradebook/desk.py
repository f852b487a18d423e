"""The teacher's start page (issue 15, item 1): this week's lessons, lessons held without a
topic or roll, new excuse requests of the tutored class, the gradebooks.

Shown on the shared home page by one include (templates/gradebook/_desk.html) through the
template global `teacher_desk`, so the home page's view stays as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload

from ediary.db import db, utcnow
from ediary.diary.models import Attendance
from ediary.excuses.models import ExcuseRequest, ExcuseStatus
from ediary.gradebook.access import is_teacher
from ediary.people.models import User
from ediary.schools.models import ClassGroup, SchoolClass, Subject
from ediary.timetable.models import Lesson, LessonStatus, TeachingAssignment

MISSING_SHOWN = 20
# What a lesson's line names: loaded with the lessons, not one query per line.
SHOWN_WITH = (
    joinedload(Lesson.subject),
    joinedload(Lesson.school_class),
    joinedload(Lesson.room),
    joinedload(Lesson.group),
)
ZONE = ZoneInfo("Europe/Warsaw")


@dataclass
class Gradebook:
    assignment: TeachingAssignment
    class_name: str
    group_name: str | None
    subject: str


@dataclass
class Desk:
    today: dt.date
    week: list[Lesson] = field(default_factory=list)  # Monday to Sunday of today's week
    missing: list[Lesson] = field(default_factory=list)  # oldest first
    missing_count: int = 0
    excuses: list[ExcuseRequest] = field(default_factory=list)
    gradebooks: list[Gradebook] = field(default_factory=list)

    @property
    def today_lessons(self) -> list[Lesson]:
        return [lesson for lesson in self.week if lesson.date == self.today]

    @property
    def other_days(self) -> list[Lesson]:
        return [lesson for lesson in self.week if lesson.date != self.today]


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def lessons_between(user: User, first: dt.date, last: dt.date) -> list[Lesson]:
    """The lessons the teacher teaches or taught (substitutions included), and the ones a
    substitute took from them, so that they see where they are not needed."""
    query = (
        select(Lesson)
        .where(
            or_(Lesson.teacher_id == user.id, Lesson.substitute_for_id == user.id),
            Lesson.date >= first,
            Lesson.date <= last,
        )
        .order_by(Lesson.date, Lesson.slot_number)
        .options(*SHOWN_WITH)
    )
    return list(db.session.scalars(query))


def missing_entries(user: User, now: dt.datetime) -> tuple[list[Lesson], int]:
    """Lessons of the teacher that ended without a topic (not marked held) or without a roll."""
    no_roll = ~exists().where(Attendance.lesson_id == Lesson.id)
    where = (
        Lesson.teacher_id == user.id,
        Lesson.status != LessonStatus.CANCELLED,
        Lesson.ends_at <= now,
        or_(Lesson.status != LessonStatus.HELD, no_roll),
    )
    count = db.session.scalar(select(func.count()).select_from(Lesson).where(*where)) or 0
    query = select(Lesson).where(*where).order_by(Lesson.starts_at, Lesson.id).options(*SHOWN_WITH)
    return list(db.session.scalars(query.limit(MISSING_SHOWN))), count


def has_roll(lesson: Lesson) -> bool:
    return bool(db.session.scalar(select(exists().where(Attendance.lesson_id == lesson.id))))


def gradebooks(user: User) -> list[Gradebook]:
    query = (
        select(TeachingAssignment, SchoolClass.name, ClassGroup.name, Subject.name)
        .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
        .join(Subject, Subject.id == TeachingAssignment.subject_id)
        .outerjoin(ClassGroup, ClassGroup.id == TeachingAssignment.group_id)
        .where(TeachingAssignment.teacher_id == user.id)
        .order_by(SchoolClass.grade_level, SchoolClass.name, Subject.name, ClassGroup.name)
    )
    return [Gradebook(a, c, g, s) for a, c, g, s in db.session.execute(query)]


def new_excuses(user: User) -> list[ExcuseRequest]:
    query = (
        select(ExcuseRequest)
        .join(SchoolClass, SchoolClass.id == ExcuseRequest.class_id)
        .where(SchoolClass.form_tutor_id == user.id, ExcuseRequest.status == ExcuseStatus.PENDING)
        .order_by(ExcuseRequest.requested_at)
    )
    return list(db.session.scalars(query.limit(10)))


def teacher_desk(user: User) -> Desk | None:
    """Everything the start page shows a teacher; None for anyone else."""
    if not user.is_authenticated or not is_teacher(user):
        return None
    today = utcnow().astimezone(ZONE).date()
    desk = Desk(today=today)
    desk.week = lessons_between(user, *week_of(today))
    desk.missing, desk.missing_count = missing_entries(user, utcnow())
    desk.excuses = new_excuses(user)
    desk.gradebooks = gradebooks(user)
    return desk
