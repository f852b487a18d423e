"""Read-only kiosk questions: the school's day, a room's lessons, a lesson's sheet, throttling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ediary.db import db
from ediary.diary.models import Attendance, Grade, GradeCategory, Remark
from ediary.diary.queries import attendance_types, default_type
from ediary.kiosks.models import Kiosk
from ediary.people.models import User
from ediary.schools.models import School
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.queries import (
    entries_open_at,
    lesson_now,
    lessons_of_teacher,
    roster,
    term_on,
)

# A teacher who logs in during the break before a lesson wants that lesson, not an empty screen.
UPCOMING = dt.timedelta(minutes=15)


def school_of(kiosk: Kiosk) -> School:
    return kiosk.school


def school_today(school: School, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(school.timezone)).date()


def end_of_day(school: School, day: dt.date) -> dt.datetime:
    """The first instant of the next school-local day, in UTC."""
    zone = ZoneInfo(school.timezone)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(
        dt.UTC
    )


def room_lessons(kiosk: Kiosk, day: dt.date) -> Sequence[Lesson]:
    query = (
        select(Lesson)
        .where(Lesson.room_id == kiosk.room_id, Lesson.date == day)
        .order_by(Lesson.slot_number, Lesson.id)
    )
    return db.session.scalars(query).all()


def lesson_to_open(kiosk: Kiosk, teacher: User, now: dt.datetime) -> Lesson | None:
    """The lesson this teacher has in this room now, or else the one starting here soon."""
    current = lesson_now(kiosk.room_id, teacher.id, now)
    if current is not None:
        return current
    query = (
        select(Lesson)
        .where(
            Lesson.room_id == kiosk.room_id,
            Lesson.teacher_id == teacher.id,
            Lesson.starts_at > now,
            Lesson.starts_at <= now + UPCOMING,
            Lesson.status != LessonStatus.CANCELLED,
        )
        .order_by(Lesson.starts_at)
    )
    return db.session.scalars(query).first()


def lesson_brief(lesson: Lesson, kiosk: Kiosk, *, with_teacher: bool = False) -> dict[str, Any]:
    """What a list of lessons shows; `here` says whether this kiosk may open it."""
    brief: dict[str, Any] = {
        "id": lesson.id,
        "date": lesson.date.isoformat(),
        "slot_number": lesson.slot_number,
        "starts_at": lesson.starts_at.isoformat(),
        "ends_at": lesson.ends_at.isoformat(),
        "subject": lesson.subject.name,
        "class": lesson.school_class.name,
        "group": lesson.group.name if lesson.group is not None else None,
        "room": lesson.room.name,
        "here": lesson.room_id == kiosk.room_id,
        "status": lesson.status.value,
        "topic": lesson.topic,
        "substitution": lesson.substitute_for_id is not None,
    }
    if with_teacher:
        teacher = db.session.get(User, lesson.teacher_id)
        brief["teacher"] = teacher.full_name if teacher is not None else None
    return brief


def teacher_day(kiosk: Kiosk, teacher: User, now: dt.datetime) -> dict[str, Any]:
    """The teacher's lessons today (in any room; only those `here` open) and the one to open."""
    today = school_today(school_of(kiosk), now)
    opening = lesson_to_open(kiosk, teacher, now)
    return {
        "today": today.isoformat(),
        "lesson_now": opening.id if opening is not None else None,
        "lessons": [
            lesson_brief(lesson, kiosk) for lesson in lessons_of_teacher(teacher.id, today)
        ],
    }


def _attendance(lesson: Lesson) -> dict[int, Attendance]:
    query = select(Attendance).where(Attendance.lesson_id == lesson.id)
    return {record.pupil_id: record for record in db.session.scalars(query)}


def _by_pupil(rows: Iterable[Grade | Remark]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.pupil_id, []).append(row)
    return grouped


def lesson_sheet(lesson: Lesson, teacher: User) -> dict[str, Any]:
    """Everything the lesson screen needs: the roster with today's states and this term's grades
    in the subject, the school's attendance types in tap order and the default one, its grade
    categories, and from when the lesson takes entries (`opens_at`)."""
    pupils = roster(lesson)
    ids = [pupil.id for pupil in pupils]
    attendance = _attendance(lesson)
    term = term_on(lesson.school_id, lesson.date)
    grades: dict[int, list[Grade]] = {}
    if term is not None and ids:
        grades = _by_pupil(
            db.session.scalars(
                select(Grade)
                .where(
                    Grade.pupil_id.in_(ids),
                    Grade.subject_id == lesson.subject_id,
                    Grade.term_id == term.id,
                    Grade.removed.is_(False),
                )
                .order_by(Grade.given_on, Grade.id)
            )
        )
    remarks: dict[int, list[Remark]] = {}
    if ids:
        remarks = _by_pupil(
            db.session.scalars(
                select(Remark)
                .where(
                    Remark.lesson_id == lesson.id,
                    Remark.teacher_id == teacher.id,
                    Remark.removed.is_(False),
                )
                .order_by(Remark.id)
            )
        )
    types = list(attendance_types(lesson.school_id).values())
    default = default_type(types)
    categories = db.session.scalars(
        select(GradeCategory)
        .where(GradeCategory.school_id == lesson.school_id)
        .order_by(GradeCategory.weight.desc(), GradeCategory.name)
    )
    return {
        "lesson": {
            "id": lesson.id,
            "date": lesson.date.isoformat(),
            "slot_number": lesson.slot_number,
            "starts_at": lesson.starts_at.isoformat(),
            "ends_at": lesson.ends_at.isoformat(),
            "subject": lesson.subject.name,
            "class": lesson.school_class.name,
            "group": lesson.group.name if lesson.group is not None else None,
            "status": lesson.status.value,
            "topic": lesson.topic,
            "opens_at": entries_open_at(lesson).isoformat(),
        },
        "attendance_types": [
            {"code": t.code, "name": t.name, "counts_as": t.counts_as.value, "excused": t.excused}
            for t in types
        ],
        "default_code": default.code if default is not None else None,
        "grade_categories": [{"id": c.id, "name": c.name, "weight": c.weight} for c in categories],
        "pupils": [
            {
                "id": pupil.id,
                "name": pupil.full_name,
                "first_name": pupil.first_name,
                "last_name": pupil.last_name,
                "attendance": attendance[pupil.id].type.code if pupil.id in attendance else None,
                "grades": [_grade(grade, teacher) for grade in grades.get(pupil.id, [])],
                "remarks": [_remark(remark) for remark in remarks.get(pupil.id, [])],
            }
            for pupil in pupils
        ],
    }


def _grade(grade: Grade, teacher: User) -> dict[str, Any]:
    return {
        "id": grade.id,
        "value": grade.value,
        "descriptive": grade.descriptive,
        "category_id": grade.category_id,
        "description": grade.description,
        "given_on": grade.given_on.isoformat(),
        "version": grade.version,
        "mine": grade.teacher_id == teacher.id,
    }


def _remark(remark: Remark) -> dict[str, Any]:
    return {
        "id": remark.id,
        "kind": remark.kind.value,
        "text": remark.text,
        "given_on": remark.given_on.isoformat(),
        "version": remark.version,
    }
