"""Read-only timetable questions: a lesson's roster, the lessons of a day, the lesson now."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from ediary.db import TransactionNotes, db
from ediary.schools.models import GroupMembership, Pupil, School, Term
from ediary.timetable.models import Lesson, LessonStatus


def pupils_of(lesson: Lesson) -> ColumnElement[bool]:
    """Whether a pupil is one the lesson is for by the timetable: its class, or its group."""
    return _class_or_group(lesson.class_id, lesson.group_id)


def _class_or_group(class_id: Any, group_id: Any) -> ColumnElement[bool]:
    """Pupils of the class `class_id`, or only the members of the group `group_id` when it is
    not None: values, or parameters of a statement built once (`_roster_query`)."""
    condition: ColumnElement[bool] = Pupil.class_id == class_id
    if group_id is not None:
        condition = and_(condition, _in_group(group_id))
    return condition


def _in_group(group_id: Any) -> ColumnElement[bool]:
    """Whether a pupil is a member of the group `group_id` (a value, a parameter or a column)."""
    members = select(GroupMembership.pupil_id).where(GroupMembership.group_id == group_id)
    return Pupil.id.in_(members)


def merged_into(lesson: Lesson) -> Sequence[Lesson]:
    """The lessons merged into this one (their teacher is absent): their pupils sit in it."""
    return db.session.scalars(select(Lesson).where(Lesson.merged_into_id == lesson.id)).all()


def _sits_in_merged(lesson_id: Any) -> ColumnElement[bool]:
    """Whether a pupil sits in the lesson `lesson_id` (a parameter, or a column of the outer
    statement) because their own lesson was merged into it (see `Lesson.merged_into_id`)."""
    merged = aliased(Lesson)
    # Correlated to the outer pupil two levels up (auto-correlation reaches one level only).
    groups_of_pupil = (
        select(GroupMembership.group_id)
        .where(GroupMembership.pupil_id == Pupil.id)
        .correlate_except(GroupMembership)
    )
    return (
        select(merged.id)
        .where(
            merged.merged_into_id == lesson_id,
            merged.class_id == Pupil.class_id,
            or_(merged.group_id.is_(None), merged.group_id.in_(groups_of_pupil)),
        )
        .exists()
    )


def on_roster_of_joined_lesson() -> ColumnElement[bool]:
    """Whether a pupil is on the roster of the `Lesson` of the outer statement, as `roster`
    has it (active pupils of its class, or of its group, and those of the lessons merged into
    it), with the lesson's columns rather than its values: a kiosk entry reads its pupil in the
    statement that reads its lesson (kiosks/receipt.py)."""
    # `_class_or_group`, with the group a column that may be NULL (a class's lesson).
    by_timetable = and_(
        Pupil.class_id == Lesson.class_id,
        or_(Lesson.group_id.is_(None), _in_group(Lesson.group_id)),
    )
    return and_(Pupil.active.is_(True), or_(by_timetable, _sits_in_merged(Lesson.id)))


# Pupils this transaction read on a lesson's roster together with the lesson (a kiosk entry's
# one read): `roster_pupil` answers for them without a query. (lesson id, the pupil): holding
# the pupil keeps it in the session's identity map, which holds objects weakly.
ON_ROSTER: TransactionNotes[tuple[int, Pupil]] = TransactionNotes("ediary.timetable.on_roster")


def note_on_roster(session: Session, lesson: Lesson, pupil: Pupil) -> None:
    ON_ROSTER.add(session, [(lesson.id, pupil)])


@functools.cache
def _roster_query(*, grouped: bool, one: bool) -> Select[Pupil]:
    """A lesson's roster as one statement, built once per shape and run with the lesson's ids
    as parameters: a roster is read at every kiosk entry, and building this statement anew each
    time (an alias, three subqueries, their cache key) cost more than the query. Its pupils: the
    lesson's class, or the members of its group, and those of the lessons merged into it (see
    `Lesson.merged_into_id`), active ones only."""
    by_timetable = _class_or_group(
        bindparam("class_id"), bindparam("group_id") if grouped else None
    )
    # The classes first, which the index on pupils.class_id finds: without them the OR below
    # makes PostgreSQL read every pupil of the database and test each (15 ms a roll at 2,350).
    classes = select(Lesson.class_id).where(
        or_(Lesson.id == bindparam("lesson_id"), Lesson.merged_into_id == bindparam("lesson_id"))
    )
    query = select(Pupil).where(
        Pupil.class_id.in_(classes),
        or_(by_timetable, _sits_in_merged(bindparam("lesson_id"))),
        Pupil.active.is_(True),
    )
    if one:
        return query.where(Pupil.id == bindparam("pupil_id"))
    return query.order_by(Pupil.last_name, Pupil.first_name, Pupil.id)


def _roster_params(lesson: Lesson) -> dict[str, int | None]:
    return {"lesson_id": lesson.id, "class_id": lesson.class_id, "group_id": lesson.group_id}


def roster(lesson: Lesson) -> Sequence[Pupil]:
    """The pupils a lesson is for: the whole class, or the members of its group, and the
    pupils of the lessons merged into it (see `Lesson.merged_into_id`)."""
    return db.session.scalars(*roster_statement(lesson)).all()


def roster_statement(lesson: Lesson) -> tuple[Select[Pupil], dict[str, int | None]]:
    """The statement `roster` runs for this lesson, and its parameters: for a caller that reads
    more in the same statement (the roll, each pupil's attendance)."""
    return _roster_query(grouped=lesson.group_id is not None, one=False), _roster_params(lesson)


def roster_pupil(lesson: Lesson, pupil_id: int) -> Pupil | None:
    """The pupil `pupil_id` if it is on the lesson's roster: one row read, not the roster (none
    if the transaction read it with the lesson, `note_on_roster`)."""
    for lesson_id, pupil in ON_ROSTER.get(db.session()):
        if lesson_id == lesson.id and pupil.id == pupil_id:
            return pupil
    query = _roster_query(grouped=lesson.group_id is not None, one=True)
    return db.session.scalar(query, _roster_params(lesson) | {"pupil_id": pupil_id})


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
