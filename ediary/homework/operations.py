"""Announcing, changing and withdrawing a test or homework (the only writes of this package).

Each publishes `homework.changed` to the class, so its parents' pages follow at once. The statute's
limits of tests per class (the school's `tests_per_week`, `tests_per_day`; kartkówki are not
counted) are a warning, not a ban: an announcement over a limit is refused with `test_limit`
until the teacher confirms (`confirm=True`) or picks another lesson.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Conflict, Refusal
from ediary.homework.models import MAX_DESCRIPTION, Homework, HomeworkKind
from ediary.journal.operations import publish
from ediary.schools.models import School
from ediary.timetable.models import Lesson, LessonStatus


class LimitWarning(Refusal):
    """Over the statute's limit: the person sees `warnings` and confirms or changes the date."""

    status = 409


def limit_warnings(
    lesson: Lesson, kind: HomeworkKind, *, other_than: int | None = None
) -> list[str]:
    """What a test on the lesson's date would break of its school's limits (none for others)."""
    if kind is not HomeworkKind.TEST:
        return []
    school = db.session.get_one(School, lesson.school_id)
    monday = lesson.date - dt.timedelta(days=lesson.date.weekday())

    def count(first: dt.date, last: dt.date) -> int:
        query = select(func.count(Homework.id)).where(
            Homework.class_id == lesson.class_id,
            Homework.kind == HomeworkKind.TEST,
            Homework.withdrawn.is_(False),
            Homework.date.between(first, last),
        )
        if other_than is not None:
            query = query.where(Homework.id != other_than)
        return db.session.scalar(query) or 0

    warnings: list[str] = []
    week = count(monday, monday + dt.timedelta(days=6))
    if week >= school.tests_per_week:
        warnings.append(
            str(
                _l(
                    "Sprawdzianów klasy w tym tygodniu jest już: %(count)s"
                    " (limit statutu: %(limit)s).",
                    count=week,
                    limit=school.tests_per_week,
                )
            )
        )
    day = count(lesson.date, lesson.date)
    if day >= school.tests_per_day:
        warnings.append(
            str(
                _l(
                    "Klasa ma już sprawdzian tego dnia (limit statutu: %(limit)s dziennie).",
                    limit=school.tests_per_day,
                )
            )
        )
    return warnings


def _checked(
    lesson: Lesson,
    kind: HomeworkKind,
    description: str,
    due_date: dt.date | None,
    today: dt.date,
) -> tuple[str, dt.date | None]:
    description = (description or "").strip()
    if not description:
        raise Refusal("homework_empty", _l("Wpisz, czego dotyczy zapowiedź."))
    if len(description) > MAX_DESCRIPTION:
        raise Refusal(
            "description_too_long",
            _l("Opis jest za długi (najwyżej %(limit)s znaków).", limit=MAX_DESCRIPTION),
        )
    if lesson.status is LessonStatus.CANCELLED:
        raise Refusal("lesson_cancelled", _l("Ta lekcja została odwołana."))
    if lesson.date < today:
        raise Refusal("homework_past", _l("Ta lekcja już była: wybierz lekcję od dzisiaj."))
    if kind is HomeworkKind.HOMEWORK:
        if due_date is None or due_date < lesson.date:
            raise Refusal(
                "due_date_invalid", _l("Termin oddania zadania nie może być przed lekcją.")
            )
        return description, due_date
    return description, None


def _publish(homework: Homework, change: Literal["added", "changed", "withdrawn"]) -> None:
    lesson = homework.lesson
    publish(
        "homework.changed",
        school_id=homework.school_id,
        audience_id=homework.class_id,
        class_id=homework.class_id,
        group_id=homework.group_id,
        lesson_id=lesson.id,
        date=lesson.date.isoformat(),
        slot_number=lesson.slot_number,
        subject=lesson.subject.name,
        homework_id=homework.id,
        kind=homework.kind.value,
        change=change,
        due_date=homework.due_date.isoformat() if homework.due_date else None,
    )


def _limits(lesson: Lesson, kind: HomeworkKind, confirm: bool, other_than: int | None) -> None:
    warnings = limit_warnings(lesson, kind, other_than=other_than)
    if warnings and not confirm:
        raise LimitWarning("test_limit", " ".join(warnings), warnings=warnings)


@operation
def announce(
    actor: Actor,
    lesson: Lesson,
    *,
    kind: HomeworkKind,
    description: str,
    due_date: dt.date | None,
    today: dt.date,
    confirm: bool = False,
) -> Homework:
    """A test or homework for the lesson (the caller loaded it as the actor's own)."""
    description, due_date = _checked(lesson, kind, description, due_date, today)
    _limits(lesson, kind, confirm, None)
    assert actor.user is not None
    homework = Homework(
        school_id=lesson.school_id,
        lesson_id=lesson.id,
        class_id=lesson.class_id,
        group_id=lesson.group_id,
        subject_id=lesson.subject_id,
        teacher_id=actor.user.id,
        kind=kind,
        date=lesson.date,
        due_date=due_date,
        description=description,
    )
    homework.lesson = lesson
    db.session.add(homework)
    db.session.flush()
    _publish(homework, "added")
    return homework


def _require_version(homework: Homework, base_version: int) -> None:
    if homework.version != base_version:
        raise Conflict(
            "stale_version",
            _l("Zapowiedź zmieniła się od wczytania strony. Sprawdź ją i zapisz ponownie."),
            current_version=homework.version,
        )
    if homework.withdrawn:
        raise Refusal("homework_withdrawn", _l("Ta zapowiedź została już odwołana."))


@operation
def change_homework(
    actor: Actor,
    homework: Homework,
    *,
    base_version: int,
    lesson: Lesson,
    kind: HomeworkKind,
    description: str,
    due_date: dt.date | None,
    today: dt.date,
    confirm: bool = False,
) -> Homework:
    """The announcement as the teacher corrected it (another lesson of the same class, group and
    subject moves its date); the history keeps the old values."""
    _require_version(homework, base_version)
    description, due_date = _checked(lesson, kind, description, due_date, today)
    moved = lesson.id != homework.lesson_id
    if moved or kind is not homework.kind:
        _limits(lesson, kind, confirm, homework.id)
    if (moved, kind, description, due_date) == (
        False,
        homework.kind,
        homework.description,
        homework.due_date,
    ):
        return homework  # nothing changed: nothing to tell the parents
    homework.lesson = lesson
    homework.date = lesson.date
    homework.kind = kind
    homework.description = description
    homework.due_date = due_date
    db.session.flush()
    _publish(homework, "changed")
    return homework


@operation
def withdraw_homework(actor: Actor, homework: Homework, *, base_version: int) -> Homework:
    """The test or homework is off; parents see it withdrawn. Twice changes nothing."""
    if homework.withdrawn:
        return homework
    _require_version(homework, base_version)
    homework.withdrawn = True
    db.session.flush()
    _publish(homework, "withdrawn")
    return homework
