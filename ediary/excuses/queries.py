"""Read models for excuses: what a parent may still ask to excuse, a child's requests, and the
form tutor's queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType
from ediary.excuses.models import ExcuseRequest, ExcuseStatus
from ediary.excuses.operations import (
    DAYS_BACK,
    EXCUSED_CODE,
    requested_lesson_ids,
    unexcused_absences,
)
from ediary.people.models import User
from ediary.schools.models import Pupil, SchoolClass
from ediary.timetable.models import Lesson, LessonStatus


@dataclass(frozen=True)
class Absence:
    attendance: Attendance
    lesson: Lesson


def excusable_absences(pupil: Pupil, today: dt.date) -> list[Absence]:
    """Unexcused absences and lateness of the last DAYS_BACK days not already asked about."""
    asked = requested_lesson_ids(pupil)
    rows = db.session.execute(
        select(Attendance, Lesson)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(AttendanceType, AttendanceType.id == Attendance.type_id)
        .where(
            Attendance.pupil_id == pupil.id,
            AttendanceType.code.in_(list(EXCUSED_CODE)),
            Lesson.status != LessonStatus.CANCELLED,
            Lesson.date >= today - dt.timedelta(days=DAYS_BACK),
            Lesson.date <= today,
        )
        .order_by(Lesson.date.desc(), Lesson.slot_number)
    )
    return [Absence(a, lesson) for a, lesson in rows if lesson.id not in asked]


def requests_of(pupil: Pupil, limit: int = 30) -> list[ExcuseRequest]:
    return list(
        db.session.scalars(
            select(ExcuseRequest)
            .where(ExcuseRequest.pupil_id == pupil.id)
            .order_by(ExcuseRequest.id.desc())
            .limit(limit)
        )
    )


@dataclass
class QueueEntry:
    request: ExcuseRequest
    pupil: Pupil
    requested_by: User | None
    lessons: list[Lesson]
    unexcused: int  # absences in covered lessons still not excused (for approved requests)


@dataclass
class Queue:
    pending: list[QueueEntry]
    to_apply: list[QueueEntry]  # approved days announced ahead whose absences are now recorded


def tutor_queue(classes: list[SchoolClass], today: dt.date) -> Queue:
    if not classes:
        return Queue([], [])
    ids = [c.id for c in classes]
    pending = db.session.scalars(
        select(ExcuseRequest)
        .where(ExcuseRequest.class_id.in_(ids), ExcuseRequest.status == ExcuseStatus.PENDING)
        .order_by(ExcuseRequest.requested_at, ExcuseRequest.id)
    ).all()
    approved = db.session.scalars(
        select(ExcuseRequest)
        .where(
            ExcuseRequest.class_id.in_(ids),
            ExcuseRequest.status == ExcuseStatus.APPROVED,
            ExcuseRequest.last_date >= today - dt.timedelta(days=DAYS_BACK),
        )
        .order_by(ExcuseRequest.first_date)
    ).all()
    entries = [_entry(r) for r in pending]
    to_apply = [e for e in (_entry(r) for r in approved) if e.unexcused]
    return Queue(entries, to_apply)


def _entry(request: ExcuseRequest) -> QueueEntry:
    pupil = db.session.get(Pupil, request.pupil_id)
    assert pupil is not None
    lesson_ids = [i.lesson_id for i in request.items if i.lesson_id is not None]
    lessons = (
        list(
            db.session.scalars(
                select(Lesson)
                .where(Lesson.id.in_(lesson_ids))
                .order_by(Lesson.date, Lesson.slot_number)
            )
        )
        if lesson_ids
        else []
    )
    return QueueEntry(
        request=request,
        pupil=pupil,
        requested_by=db.session.get(User, request.requested_by_id),
        lessons=lessons,
        unexcused=len(unexcused_absences(request)),
    )
