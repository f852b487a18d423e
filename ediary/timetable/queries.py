"""Read-only timetable questions: a lesson's roster, the lessons of a day, the lesson now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, or_, select

from ediary.db import db
from ediary.schools.models import GroupMembership, Pupil, School, Term
from ediary.timetable.models import Lesson, LessonStatus


def pupils_of(lesson: Lesson) -> ColumnElement[bool]:
    """Whether a pupil is one the lesson is for by the timetable: its class, or its group."""
    condition = Pupil.class_id == lesson.class_id
    if lesson.group_id is not None:
        members = select(GroupMembership.pupil_id).where(
            GroupMembership.group_id == lesson.group_id
        )
        condition = and_(condition, Pupil.id.in_(members))
    return condition


def merged_into(lesson: Lesson) -> Sequence[Lesson]:
    """The lessons merged into this one (their teacher is absent): their pupils sit in it."""
    return db.session.scalars(select(Lesson).where(Lesson.merged_into_id == lesson.id)).all()


def roster(lesson: Lesson) -> Sequence[Pupil]:
    """The pupils a lesson is for: the whole class, or the members of its group, and the
    pupils of the lessons merged into it (see `Lesson.merged_into_id`)."""
    condition = or_(pupils_of(lesson), *(pupils_of(other) for other in merged_into(lesson)))
    query = select(Pupil).where(condition, Pupil.active.is_(True))
    return db.session.scalars(query.order_by(Pupil.last_name, Pupil.first_name, Pupil.id)).all()


def lessons_of_teacher(teacher_id: int, date: dt.date) -> Sequence[Lesson]:
    query = (
        select(Lesson)
        .where(Lesson.teacher_id == teacher_id, Lesson.date == date)
        .order_by(Lesson.slot_number)
    )
    return db.session.scalars(query).all()


def lesson_now(room_id: int, teacher_id: int, at: dt.datetime) -> Lesson | None:
    """The lesson this teacher has in this room at this moment (substitutions included)."""
    query = select(Lesson).where(
        Lesson.room_id == room_id,
        Lesson.teacher_id == teacher_id,
        Lesson.starts_at <= at,
        Lesson.ends_at > at,
        Lesson.status != LessonStatus.CANCELLED,
    )
    return db.session.scalars(query).first()


def term_on(school_id: int, date: dt.date) -> Term | None:
    query = select(Term).where(
        Term.school_id == school_id, Term.starts_on <= date, Term.ends_on >= date
    )
    return db.session.scalars(query).first()


def entries_open_at(lesson: Lesson) -> dt.datetime:
    """From when a lesson takes entries: its bell minus the school's `entry_lead_minutes`."""
    school = db.session.get(School, lesson.school_id)
    lead = school.entry_lead_minutes if school is not None else 0
    return lesson.starts_at - dt.timedelta(minutes=lead)
