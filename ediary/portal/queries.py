"""What the portal shows besides the pupil card: a parent's children, today's lessons with the
child's attendance, new entries, and lesson topics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, or_, select

from ediary.db import db
from ediary.diary.models import Attendance, Grade, Remark
from ediary.people.models import User
from ediary.schools.models import GroupMembership, Guardianship, Pupil
from ediary.timetable.models import Lesson, LessonStatus

NEW_DAYS = 7
TOPICS = 40


def children_of(user: User) -> list[Pupil]:
    return list(
        db.session.scalars(
            select(Pupil)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(Guardianship.user_id == user.id)
            .order_by(Pupil.first_name, Pupil.id)
        )
    )


def _lessons_of(pupil: Pupil) -> Select[Lesson]:
    groups = select(GroupMembership.group_id).where(GroupMembership.pupil_id == pupil.id)
    return select(Lesson).where(
        Lesson.class_id == pupil.class_id,
        or_(Lesson.group_id.is_(None), Lesson.group_id.in_(groups)),
    )


@dataclass(frozen=True)
class TodayLesson:
    lesson: Lesson
    attendance: Attendance | None


def lessons_on(pupil: Pupil, date: dt.date) -> list[TodayLesson]:
    lessons = list(
        db.session.scalars(
            _lessons_of(pupil).where(Lesson.date == date).order_by(Lesson.slot_number)
        )
    )
    records = {
        a.lesson_id: a
        for a in db.session.scalars(
            select(Attendance).where(
                Attendance.pupil_id == pupil.id,
                Attendance.lesson_id.in_([lesson.id for lesson in lessons]),
            )
        )
    }
    return [TodayLesson(lesson, records.get(lesson.id)) for lesson in lessons]


@dataclass(frozen=True)
class Recent:
    grades: list[Grade]
    remarks: list[Remark]

    @property
    def empty(self) -> bool:
        return not self.grades and not self.remarks


def recent_entries(pupil: Pupil, today: dt.date, days: int = NEW_DAYS) -> Recent:
    since = today - dt.timedelta(days=days)
    grades = db.session.scalars(
        select(Grade)
        .where(Grade.pupil_id == pupil.id, Grade.removed.is_(False), Grade.given_on >= since)
        .order_by(Grade.given_on.desc(), Grade.id.desc())
    ).all()
    remarks = db.session.scalars(
        select(Remark)
        .where(Remark.pupil_id == pupil.id, Remark.removed.is_(False), Remark.given_on >= since)
        .order_by(Remark.given_on.desc(), Remark.id.desc())
    ).all()
    return Recent(list(grades), list(remarks))


def topics_of(pupil: Pupil, limit: int = TOPICS) -> list[Lesson]:
    return list(
        db.session.scalars(
            _lessons_of(pupil)
            .where(Lesson.topic.is_not(None), Lesson.status == LessonStatus.HELD)
            .order_by(Lesson.date.desc(), Lesson.slot_number.desc())
            .limit(limit)
        )
    )
