"""What the director looks for: lessons that took place (begun, not cancelled) whose teacher left
no topic or no roll. Reading only."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import exists, or_, select

from ediary.db import db
from ediary.diary.models import Attendance
from ediary.people.models import User
from ediary.schools.models import School, SchoolClass, Subject
from ediary.timetable.models import Lesson, LessonStatus

LIMIT = 500  # a page, not the whole history: the oldest come first, to be chased first


@dataclass(frozen=True)
class MissingEntry:
    lesson_id: int
    date: dt.date
    starts_at: dt.datetime
    slot_number: int
    teacher_id: int
    teacher: str
    class_name: str
    subject: str
    no_topic: bool
    no_roll: bool


@dataclass(frozen=True)
class Missing:
    entries: list[MissingEntry]
    per_teacher: list[tuple[str, int]]  # (teacher, lessons with something missing), most first
    truncated: bool


def missing_entries(school: School, now: dt.datetime) -> Missing:
    """Lessons of the school begun by `now`, not cancelled, without a topic or without a roll,
    oldest first, with the count per teacher."""
    rolled = exists().where(Attendance.lesson_id == Lesson.id)
    no_topic = or_(Lesson.topic.is_(None), Lesson.topic == "")
    rows = db.session.execute(
        select(Lesson, User, SchoolClass.name, Subject.name, rolled)
        .join(User, User.id == Lesson.teacher_id)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .where(
            Lesson.school_id == school.id,
            Lesson.starts_at <= now,
            Lesson.status != LessonStatus.CANCELLED,
            or_(no_topic, ~rolled),
        )
        .order_by(Lesson.starts_at, Lesson.slot_number, Lesson.id)
        .limit(LIMIT + 1)
    ).all()
    entries = [
        MissingEntry(
            lesson_id=lesson.id,
            date=lesson.date,
            starts_at=lesson.starts_at,
            slot_number=lesson.slot_number,
            teacher_id=teacher.id,
            teacher=teacher.full_name,
            class_name=class_name,
            subject=subject,
            no_topic=not (lesson.topic or "").strip(),
            no_roll=not has_roll,
        )
        for lesson, teacher, class_name, subject, has_roll in rows[:LIMIT]
    ]
    counts = Counter(entry.teacher for entry in entries)
    per_teacher = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return Missing(entries=entries, per_teacher=per_teacher, truncated=len(rows) > LIMIT)
