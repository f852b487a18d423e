"""Grades: recorded, corrected and withdrawn by teachers; a correction never erases (audit)."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from ediary.audit.recording import Actor, insert_audited, operation
from ediary.db import db
from ediary.diary.models import Grade, GradeCategory, GradeKind
from ediary.diary.operations.common import check_version
from ediary.diary.values import parse_grade
from ediary.errors import Refusal
from ediary.gradingrules.years import category_weight
from ediary.journal.catalogue import GradeAdded
from ediary.journal.operations import publish
from ediary.kiosks.schema import limit
from ediary.schools.models import Pupil, Subject
from ediary.timetable.models import Lesson
from ediary.timetable.queries import term_on

# The column's length (diary/models.py), stated for every channel in the kiosk protocol's schema.
MAX_DESCRIPTION = limit("description")


def _grade_payload(grade: Grade) -> GradeAdded:
    return {
        "pupil_id": grade.pupil_id,
        "grade_id": grade.id,
        "subject": grade.subject.name,
        "kind": grade.kind.value,
        "value": grade.value,
        "descriptive": grade.descriptive,
        "category": grade.category.name if grade.category else None,
        # The weight of the statute of the grade's school year (ediary/gradingrules).
        "weight": category_weight(grade.term_id, grade.category) if grade.category else None,
        "description": grade.description,
        "given_on": grade.given_on.isoformat(),
        "teacher": grade.teacher.full_name,
        "improves_id": grade.improves_id,
    }


def _check_category(category: GradeCategory | None, school_id: int, kind: GradeKind) -> None:
    if category is not None and category.school_id != school_id:
        raise Refusal("category_unknown", _l("Nieznana kategoria oceny."))
    if category is not None and kind is not GradeKind.ONGOING:
        raise Refusal("category_final", _l("Ocena śródroczna i roczna nie ma kategorii."))


def _clean_description(description: str | None) -> str | None:
    description = (description or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise Refusal("description_too_long", _l("Opis oceny jest za długi."))
    return description


@operation
def record_grade(
    actor: Actor,
    *,
    pupil: Pupil,
    subject: Subject,
    value: str | None = None,
    descriptive: str | None = None,
    kind: GradeKind = GradeKind.ONGOING,
    category: GradeCategory | None = None,
    description: str | None = None,
    given_on: dt.date,
    lesson: Lesson | None = None,
    improves: Grade | None = None,
    assessment_id: int | None = None,
) -> Grade:
    """`assessment_id`: the gradebook column (ediary/gradebook) it is entered in, if any."""
    if actor.user is None:
        raise Refusal("no_teacher", _l("Ocenę wystawia nauczyciel."))
    if subject.school_id != pupil.school_id:
        raise Refusal("subject_unknown", _l("Nieznany przedmiot."))
    parsed = parse_grade(kind, value, descriptive)
    _check_category(category, pupil.school_id, kind)
    term = term_on(pupil.school_id, given_on)
    if term is None:
        raise Refusal("no_term", _l("Ta data nie należy do żadnego okresu roku szkolnego."))
    if improves is not None and (
        improves.pupil_id != pupil.id
        or improves.subject_id != subject.id
        or improves.removed
        or improves.kind is not GradeKind.ONGOING
    ):
        raise Refusal("improves_invalid", _l("Poprawiać można tylko ocenę bieżącą tego ucznia."))
    grade = Grade(
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        subject=subject,
        term_id=term.id,
        teacher=actor.user,
        lesson_id=lesson.id if lesson is not None else None,
        kind=kind,
        value=parsed.value,
        descriptive=parsed.descriptive,
        category=category,
        description=_clean_description(description),
        given_on=given_on,
        improves_id=improves.id if improves is not None else None,
        assessment_id=assessment_id,
    )
    insert_audited(grade)  # with its history row: one statement on PostgreSQL
    publish("grade.added", school_id=grade.school_id, audience_id=pupil.id, **_grade_payload(grade))
    return grade


@operation
def correct_grade(
    actor: Actor,
    grade: Grade,
    *,
    value: str | None = None,
    descriptive: str | None = None,
    category: GradeCategory | None = None,
    description: str | None = None,
    base_version: int | None = None,
) -> Grade:
    """A correction keeps the old value in the history (old → new, who, when)."""
    if grade.removed:
        raise Refusal("grade_removed", _l("Ta ocena została usunięta."))
    check_version(grade, base_version)
    parsed = parse_grade(grade.kind, value, descriptive)
    _check_category(category, grade.school_id, grade.kind)
    grade.value, grade.descriptive = parsed.value, parsed.descriptive
    grade.category = category
    grade.description = _clean_description(description)
    db.session.flush()
    publish(
        "grade.changed",
        school_id=grade.school_id,
        audience_id=grade.pupil_id,
        **_grade_payload(grade),
    )
    return grade


@operation
def remove_grade(actor: Actor, grade: Grade, *, base_version: int | None = None) -> Grade:
    """Withdraws a grade; the row and its history stay (a correction never erases)."""
    check_version(grade, base_version)
    if grade.removed:
        return grade
    grade.removed = True
    publish(
        "grade.removed",
        school_id=grade.school_id,
        audience_id=grade.pupil_id,
        pupil_id=grade.pupil_id,
        grade_id=grade.id,
        subject=grade.subject.name,
    )
    return grade
