"""The demo's form tutor: one pupil of `wychowawca1`'s class missed most lessons of one subject
this term, so "Moja klasa" shows a pupil at risk of non-classification (issue 15 item 6)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType
from ediary.people.models import User
from ediary.schools.models import Pupil, SchoolClass
from ediary.timetable.models import Lesson

TUTOR = "wychowawca1"
MISSED_OF_TEN = 6  # of every ten recorded lessons of the subject: below the statute's half


def mark_absent_pupil() -> int:
    """How many attendance entries were turned into absences (0 when the demo lacks them).
    The caller commits."""
    tutor = db.session.scalar(select(User).where(User.login == TUTOR))
    if tutor is None:
        return 0
    school_class = db.session.scalar(
        select(SchoolClass).where(SchoolClass.form_tutor_id == tutor.id).order_by(SchoolClass.id)
    )
    if school_class is None:
        return 0
    pupil = db.session.scalar(
        select(Pupil)
        .where(Pupil.class_id == school_class.id, Pupil.active.is_(True))
        .order_by(Pupil.last_name, Pupil.first_name)
    )
    absent = db.session.scalar(
        select(AttendanceType).where(
            AttendanceType.school_id == school_class.school_id, AttendanceType.code == "nb"
        )
    )
    if pupil is None or absent is None:
        return 0
    # The pupil's subject with the most recorded lessons.
    subject_id = db.session.scalar(
        select(Lesson.subject_id)
        .join(Attendance, Attendance.lesson_id == Lesson.id)
        .where(Attendance.pupil_id == pupil.id)
        .group_by(Lesson.subject_id)
        .order_by(func.count().desc(), Lesson.subject_id)
        .limit(1)
    )
    rows = db.session.execute(
        select(Attendance, Lesson.teacher_id)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .where(Attendance.pupil_id == pupil.id, Lesson.subject_id == subject_id)
        .order_by(Lesson.date, Lesson.slot_number)
    ).all()
    # Each change in the name of the lesson's teacher, who took the roll (as the history has it).
    by_teacher: dict[int, list[Attendance]] = defaultdict(list)
    for index, (row, teacher_id) in enumerate(rows):
        if index % 10 < MISSED_OF_TEN and row.type_id != absent.id:
            by_teacher[teacher_id].append(row)
    for teacher_id, entries in by_teacher.items():
        teacher = db.session.get(User, teacher_id)
        assert teacher is not None
        _absences(Actor(teacher, Channel.IMPORT), entries, absent)
    return sum(len(entries) for entries in by_teacher.values())


@operation
def _absences(actor: Actor, entries: list[Attendance], absent: AttendanceType) -> None:
    for row in entries:
        row.type_id = absent.id
