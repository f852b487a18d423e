"""Tests and homework at the kiosk (docs/protocol.md, /kiosk): the `homework_dates` call, which
lists the lessons a teacher may announce for with the statute's warnings, and the `homework`
kind of entry. The namespace (ediary/kiosks/sockets.py) and the submission's operation
(ediary/kiosks/submissions.py) call these; the scope is theirs: the kiosk's lesson now, of the
teacher of the session. The announcement goes to that teacher's lesson of the same class, group
and subject on the chosen date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.recording import Actor
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.homework.models import HomeworkKind
from ediary.homework.operations import announce, limit_warnings
from ediary.homework.queries import lessons_to_choose
from ediary.kiosks.access import load_kiosk_lesson, load_teacher_session
from ediary.kiosks.models import Kiosk
from ediary.kiosks.queries import school_of, school_today
from ediary.people.models import User
from ediary.timetable.models import Lesson, LessonStatus


def homework_dates(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    """The teacher's coming lessons of the open lesson's class, group and subject (six weeks),
    each with what a test there would break of the limits: the screen warns before saving."""
    now = utcnow()
    row, teacher = load_teacher_session(kiosk, data["session"], now)
    lesson = load_kiosk_lesson(kiosk, row, data["lesson_id"])
    today = school_today(school_of(kiosk), now)
    return {
        "ok": True,
        "today": today.isoformat(),
        "lessons": [
            {
                "lesson_id": choice.id,
                "date": choice.date.isoformat(),
                "slot_number": choice.slot_number,
                "test_warnings": limit_warnings(choice, HomeworkKind.TEST),
            }
            for choice in lessons_to_choose(teacher, lesson, today)
            if choice.date >= today
        ],
    }


def _target(teacher: User, lesson: Lesson, date: dt.date) -> Lesson:
    target = db.session.scalars(
        select(Lesson)
        .where(
            Lesson.teacher_id == teacher.id,
            Lesson.class_id == lesson.class_id,
            Lesson.subject_id == lesson.subject_id,
            Lesson.group_id.is_(None)
            if lesson.group_id is None
            else Lesson.group_id == lesson.group_id,
            Lesson.date == date,
            Lesson.status != LessonStatus.CANCELLED,
        )
        .order_by(Lesson.slot_number, Lesson.id)
        .limit(1)
    ).first()
    if target is None:
        raise Refusal(
            "homework_no_lesson",
            _l("Tego dnia nie masz lekcji z tą klasą i tym przedmiotem."),
        )
    return target


def apply_homework(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    """The `homework` entry (inside `apply_submission`, one transaction with its key)."""
    assert actor.user is not None  # kiosk entries come from a teacher's session
    try:
        date = dt.date.fromisoformat(payload["date"])
        due = dt.date.fromisoformat(payload["due_date"]) if payload.get("due_date") else None
    except ValueError:
        raise Refusal("invalid", _l("Nieprawidłowa data."), field="payload.date") from None
    today = school_today(lesson.school_class.school, utcnow())
    if date < today:
        raise Refusal("homework_past", _l("Ta lekcja już była: wybierz lekcję od dzisiaj."))
    target = _target(actor.user, lesson, date)
    homework = announce(
        actor,
        target,
        kind=HomeworkKind(payload["homework_kind"]),
        description=payload["description"],
        due_date=due,
        today=today,
        confirm=bool(payload.get("confirm", False)),
    )
    return {
        "homework_id": homework.id,
        "for_lesson_id": target.id,
        "date": target.date.isoformat(),
        "version": homework.version,
    }
