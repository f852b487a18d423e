"""The demo's tests and homework (issue 18): `nauczyciel1` has announced a sprawdzian, a
kartkówka and homework in the coming days, so a parent's "Tydzień" shows them and the teacher's
"Sprawdziany i zadania domowe" lists them. Written as seeded rows (channel `import`, with their
history), not through `announce`: seeded data is not live news, so no journal event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.homework.models import Homework, HomeworkKind
from ediary.people.models import User
from ediary.timetable.models import Lesson, LessonStatus

TEACHER = "nauczyciel1"
ENTRIES = (
    (HomeworkKind.TEST, "Sprawdzian z działu: ułamki zwykłe i dziesiętne."),
    (HomeworkKind.QUIZ, "Kartkówka z ostatnich trzech lekcji."),
    (HomeworkKind.HOMEWORK, "Zadania 1-5 ze strony 84 w zeszycie ćwiczeń."),
)


def announce_some(today: dt.date) -> int:
    """Three announcements on the teacher's next lessons after today; returns how many. The
    caller commits."""
    teacher = db.session.scalars(select(User).where(User.login == TEACHER)).first()
    if teacher is None:
        return 0
    lessons = db.session.scalars(
        select(Lesson)
        .where(
            Lesson.teacher_id == teacher.id,
            Lesson.date > today,
            Lesson.status == LessonStatus.PLANNED,
        )
        .order_by(Lesson.date, Lesson.slot_number)
    ).all()
    chosen: list[Lesson] = []
    for lesson in lessons:  # one a class, so that more classes' parents see one
        if all(other.class_id != lesson.class_id for other in chosen):
            chosen.append(lesson)
    return _write(Actor(teacher, Channel.IMPORT), teacher, chosen)


@operation
def _write(actor: Actor, teacher: User, lessons: list[Lesson]) -> int:
    for (kind, text), lesson in zip(ENTRIES, lessons, strict=False):
        db.session.add(
            Homework(
                school_id=lesson.school_id,
                lesson_id=lesson.id,
                class_id=lesson.class_id,
                group_id=lesson.group_id,
                subject_id=lesson.subject_id,
                teacher_id=teacher.id,
                kind=kind,
                date=lesson.date,
                due_date=lesson.date + dt.timedelta(days=7)
                if kind is HomeworkKind.HOMEWORK
                else None,
                description=text,
            )
        )
    return min(len(ENTRIES), len(lessons))
