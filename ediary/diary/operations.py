"""Writes to the diary: attendance, topics, grades, remarks. Each takes the actor (house rule 3).

Operations validate the domain rules and refuse with a readable message; authorisation happens
before, in the loaders (`*/access.py`). Each change writes its history rows (audit) and its
journal events (`publish`) in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.recording import Actor, operation, update_in_bulk
from ediary.db import db
from ediary.diary.models import (
    Attendance,
    AttendanceType,
    Grade,
    GradeCategory,
    GradeKind,
    Remark,
    RemarkKind,
)
from ediary.diary.values import parse_grade
from ediary.errors import Conflict, Refusal
from ediary.journal.operations import publish
from ediary.people.models import User
from ediary.schools.models import Pupil, Subject
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.queries import roster, term_on

MAX_TOPIC = 500
MAX_REMARK = 2000


def _lesson_fields(lesson: Lesson) -> dict[str, Any]:
    return {
        "lesson_id": lesson.id,
        "date": lesson.date.isoformat(),
        "slot_number": lesson.slot_number,
        "subject": lesson.subject.name,
    }


def _require_open(lesson: Lesson) -> None:
    if lesson.status is LessonStatus.CANCELLED:
        raise Refusal("lesson_cancelled", _l("Ta lekcja została odwołana."))


def attendance_types(school_id: int) -> dict[str, AttendanceType]:
    query = select(AttendanceType).where(AttendanceType.school_id == school_id)
    return {t.code: t for t in db.session.scalars(query.order_by(AttendanceType.position))}


@operation
def submit_roll(
    actor: Actor,
    lesson: Lesson,
    states: Mapping[int, str],
    topic: str | None = None,
) -> dict[str, Any]:
    """A whole class roll (and optionally the topic) in one transaction.

    `states` maps pupil id → attendance code. Pupils of the roster not named keep what they have;
    those with nothing recorded yet are marked present (the default when a roll is opened).
    """
    _require_open(lesson)
    types = attendance_types(lesson.school_id)
    pupils = {p.id: p for p in roster(lesson)}
    foreign = sorted(set(states) - set(pupils))
    if foreign:
        raise Refusal(
            "pupil_not_in_lesson", _l("Ucznia nie ma na liście tej lekcji."), pupil_ids=foreign
        )
    unknown = sorted({code for code in states.values() if code not in types})
    if unknown:
        raise Refusal("attendance_unknown", _l("Nieznany rodzaj obecności."), codes=unknown)
    present = next(t for t in types.values() if t.code == "ob")
    # Read before the loop: a lazy load inside it would autoflush the first changed row, and
    # with it take the journal lock (realtime/delivery.py) for the rest of the loop.
    lesson_fields = _lesson_fields(lesson)
    existing = {
        a.pupil_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.lesson_id == lesson.id))
    }
    changed = 0
    # Changed rows are written in one statement after the loop (`update_in_bulk`): the flush
    # would send one UPDATE per versioned row, under the journal lock.
    updates: list[tuple[Attendance, dict[str, Any]]] = []
    for pupil_id in pupils:
        record = existing.get(pupil_id)
        wanted = types[states[pupil_id]] if pupil_id in states else (None if record else present)
        if wanted is None or (record is not None and record.type_id == wanted.id):
            continue
        previous = record.type.code if record is not None else None
        if record is None:
            record = Attendance(
                school_id=lesson.school_id, lesson_id=lesson.id, pupil_id=pupil_id, type=wanted
            )
            db.session.add(record)
        else:
            updates.append((record, {"type_id": wanted.id, "recorded_at": dt.datetime.now(dt.UTC)}))
        changed += 1
        publish(
            "attendance.recorded",
            school_id=lesson.school_id,
            audience_id=pupil_id,
            pupil_id=pupil_id,
            **lesson_fields,
            code=wanted.code,
            name=wanted.name,
            counts_as=wanted.counts_as.value,
            excused=wanted.excused,
            previous_code=previous,
        )
    if updates:
        db.session.flush()  # the new rows and the journal events, and with them the journal lock
        update_in_bulk(actor, updates)
    if topic is not None:
        set_topic(actor, lesson, topic)
    return {"lesson_id": lesson.id, "pupils": len(pupils), "changed": changed}


@operation
def set_topic(actor: Actor, lesson: Lesson, topic: str) -> Lesson:
    """Entering the topic confirms that the lesson took place."""
    _require_open(lesson)
    topic = topic.strip()
    if not topic:
        raise Refusal("topic_empty", _l("Wpisz temat lekcji."))
    if len(topic) > MAX_TOPIC:
        raise Refusal("topic_too_long", _l("Temat lekcji jest za długi."))
    if topic == lesson.topic:
        return lesson
    lesson.topic = topic
    lesson.status = LessonStatus.HELD
    publish(
        "lesson.topic",
        school_id=lesson.school_id,
        audience_id=lesson.class_id,
        class_id=lesson.class_id,
        **_lesson_fields(lesson),
        topic=topic,
    )
    return lesson


def _grade_payload(grade: Grade) -> dict[str, Any]:
    return {
        "pupil_id": grade.pupil_id,
        "grade_id": grade.id,
        "subject": grade.subject.name,
        "kind": grade.kind.value,
        "value": grade.value,
        "descriptive": grade.descriptive,
        "category": grade.category.name if grade.category else None,
        "weight": grade.category.weight if grade.category else None,
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


def _check_version(row: Grade | Remark, base_version: int | None) -> None:
    if base_version is not None and row.version != base_version:
        raise Conflict(
            "stale_version",
            _l("Ten wpis zmienił się w międzyczasie. Odśwież i spróbuj ponownie."),
            current_version=row.version,
        )


def _clean_description(description: str | None) -> str | None:
    description = (description or "").strip() or None
    if description is not None and len(description) > 200:
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
) -> Grade:
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
    )
    db.session.add(grade)
    db.session.flush()
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
    _check_version(grade, base_version)
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
    _check_version(grade, base_version)
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


def _remark_payload(remark: Remark, teacher: User) -> dict[str, Any]:
    return {
        "pupil_id": remark.pupil_id,
        "remark_id": remark.id,
        "kind": remark.kind.value,
        "text": remark.text,
        "given_on": remark.given_on.isoformat(),
        "teacher": teacher.full_name,
    }


def _clean_remark(text: str) -> str:
    text = text.strip()
    if not text:
        raise Refusal("remark_empty", _l("Wpisz treść uwagi."))
    if len(text) > MAX_REMARK:
        raise Refusal("remark_too_long", _l("Treść uwagi jest za długa."))
    return text


@operation
def add_remark(
    actor: Actor,
    *,
    pupil: Pupil,
    kind: RemarkKind,
    text: str,
    given_on: dt.date,
    lesson: Lesson | None = None,
) -> Remark:
    if actor.user is None:
        raise Refusal("no_teacher", _l("Uwagę wpisuje nauczyciel."))
    remark = Remark(
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        teacher=actor.user,
        lesson_id=lesson.id if lesson is not None else None,
        kind=kind,
        text=_clean_remark(text),
        given_on=given_on,
    )
    db.session.add(remark)
    db.session.flush()
    publish(
        "remark.added",
        school_id=remark.school_id,
        audience_id=pupil.id,
        **_remark_payload(remark, actor.user),
    )
    return remark


@operation
def correct_remark(
    actor: Actor,
    remark: Remark,
    *,
    kind: RemarkKind,
    text: str,
    base_version: int | None = None,
) -> Remark:
    if remark.removed:
        raise Refusal("remark_removed", _l("Ta uwaga została usunięta."))
    _check_version(remark, base_version)
    remark.kind, remark.text = kind, _clean_remark(text)
    db.session.flush()
    publish(
        "remark.changed",
        school_id=remark.school_id,
        audience_id=remark.pupil_id,
        **_remark_payload(remark, remark.teacher),
    )
    return remark


@operation
def remove_remark(actor: Actor, remark: Remark, *, base_version: int | None = None) -> Remark:
    _check_version(remark, base_version)
    if remark.removed:
        return remark
    remark.removed = True
    publish(
        "remark.removed",
        school_id=remark.school_id,
        audience_id=remark.pupil_id,
        pupil_id=remark.pupil_id,
        remark_id=remark.id,
    )
    return remark
