"""Timetable writes: teaching assignments, lessons on dates from the weekly plan, cancellations,
substitutions.

An assignment decides which pupils a teacher reads, so changing one declares it
(`ediary.access.revocation`); a substitution does not: it hands over one lesson to record in,
not the class's pupils to follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.access.revocation import access_changed
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.diary.operations.common import lesson_fields
from ediary.errors import Conflict, Refusal
from ediary.journal.operations import publish
from ediary.people.models import Role, User
from ediary.schools.calendar import day_off
from ediary.schools.models import ClassGroup, Pupil, School, SchoolClass, Subject
from ediary.timetable.models import (
    BellSlot,
    Lesson,
    LessonStatus,
    TeachingAssignment,
    TimetableEntry,
)
from ediary.timetable.queries import merged_into, pupils_of, roster


def local_datetime(school: School, date: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(date, time, tzinfo=ZoneInfo(school.timezone)).astimezone(dt.UTC)


@operation
def assign_teacher(
    actor: Actor,
    teacher: User,
    school_class: SchoolClass,
    subject: Subject,
    group: ClassGroup | None = None,
) -> TeachingAssignment:
    """A przydział: `teacher` teaches `subject` to the class, or to one group of it."""
    if group is not None and group.class_id != school_class.id:
        raise Refusal("group_other_class", _l("Ta grupa nie należy do tej klasy."))
    existing = db.session.scalar(
        select(TeachingAssignment).where(
            TeachingAssignment.teacher_id == teacher.id,
            TeachingAssignment.class_id == school_class.id,
            TeachingAssignment.subject_id == subject.id,
            TeachingAssignment.group_id.is_(None)
            if group is None
            else TeachingAssignment.group_id == group.id,
        )
    )
    if existing is not None:
        return existing
    assignment = TeachingAssignment(
        school_id=school_class.school_id,
        teacher_id=teacher.id,
        class_id=school_class.id,
        group_id=group.id if group is not None else None,
        subject_id=subject.id,
    )
    db.session.add(assignment)
    access_changed(teacher.id)
    return assignment


@operation
def ensure_lessons(actor: Actor, school: School, date: dt.date) -> list[Lesson]:
    """Creates the day's lessons from the weekly timetable where they do not exist yet; none on
    the school's days off (ediary/schools/calendar.py)."""
    if day_off(school, date) is not None:
        return list(
            db.session.scalars(
                select(Lesson).where(Lesson.school_id == school.id, Lesson.date == date)
            )
        )
    slots = {
        s.number: s
        for s in db.session.scalars(select(BellSlot).where(BellSlot.school_id == school.id))
    }
    entries = db.session.scalars(
        select(TimetableEntry).where(
            TimetableEntry.school_id == school.id,
            TimetableEntry.weekday == date.weekday(),
            TimetableEntry.valid_from <= date,
            TimetableEntry.valid_to >= date,
        )
    ).all()
    existing = {
        lesson.timetable_entry_id: lesson
        for lesson in db.session.scalars(
            select(Lesson).where(Lesson.school_id == school.id, Lesson.date == date)
        )
    }
    lessons = []
    for entry in entries:
        lesson = existing.get(entry.id)
        if lesson is None:
            slot = slots[entry.slot_number]
            assignment = entry.assignment
            lesson = Lesson(
                school_id=school.id,
                timetable_entry_id=entry.id,
                date=date,
                slot_number=entry.slot_number,
                starts_at=local_datetime(school, date, slot.starts_at),
                ends_at=local_datetime(school, date, slot.ends_at),
                class_id=assignment.class_id,
                group_id=assignment.group_id,
                subject_id=assignment.subject_id,
                teacher_id=assignment.teacher_id,
                room_id=entry.room_id,
            )
            db.session.add(lesson)
        lessons.append(lesson)
    return lessons


@operation
def cancel_lesson(actor: Actor, lesson: Lesson, *, base_version: int | None = None) -> Lesson:
    """The class does not have the lesson; its parents hear of it at once (`lesson.cancelled`).

    Cancelling a cancelled lesson changes nothing (a form sent twice is harmless). A page passes
    the `version` it showed: a lesson changed meanwhile (a substitution) is a conflict, shown to
    the person before anything is cancelled on what they did not see.
    """
    if lesson.status is LessonStatus.CANCELLED:
        return lesson
    if lesson.status is LessonStatus.HELD:
        raise Refusal("lesson_held", _l("Lekcja z wpisanym tematem już się odbyła."))
    if base_version is not None and lesson.version != base_version:
        raise Conflict(
            "stale_version",
            _l("Lekcja zmieniła się od wczytania strony. Sprawdź ją i odwołaj ponownie."),
            current_version=lesson.version,
        )
    if merged_into(lesson):
        raise Refusal(
            "lesson_has_merged",
            _l("Do tej lekcji dołączono inną grupę: odwołanie zostawiłoby ją bez lekcji."),
        )
    lesson.status = LessonStatus.CANCELLED
    publish(
        "lesson.cancelled",
        school_id=lesson.school_id,
        audience_id=lesson.class_id,
        class_id=lesson.class_id,
        **lesson_fields(lesson),
    )
    return lesson


@operation
def substitute(actor: Actor, lesson: Lesson, teacher: User) -> Lesson:
    """Hands the lesson to a substitute; the timetable's teacher is kept in `substitute_for_id`."""
    if not any(
        m.role is Role.TEACHER and m.school_id == lesson.school_id for m in teacher.memberships
    ):
        raise Refusal(
            "not_a_teacher", _l("Zastępstwo może poprowadzić tylko nauczyciel tej szkoły.")
        )
    if lesson.status is LessonStatus.CANCELLED:
        raise Refusal("lesson_cancelled", _l("Ta lekcja została odwołana."))
    if teacher.id == lesson.teacher_id:
        return lesson
    if lesson.substitute_for_id is None:
        lesson.substitute_for_id = lesson.teacher_id
    lesson.teacher_id = teacher.id
    if lesson.teacher_id == lesson.substitute_for_id:
        lesson.substitute_for_id = None
    return lesson


@operation
def substitute_lesson(
    actor: Actor, lesson: Lesson, teacher: User, *, base_version: int | None = None
) -> Lesson:
    """The school administrator's substitution (zastępstwo): `teacher` takes the lesson, the
    absent one is kept in `substitute_for_id`, and the class's parents see it at once
    (`lesson.substituted`). A substitute teaching elsewhere in that time is refused; a lesson
    changed since the page showed `base_version` is a conflict. Naming the lesson's teacher
    again changes nothing (a form sent twice is harmless)."""
    if teacher.id == lesson.teacher_id:
        return lesson
    if lesson.status is LessonStatus.HELD:
        raise Refusal("lesson_held", _l("Lekcja z wpisanym tematem już się odbyła."))
    if base_version is not None and lesson.version != base_version:
        raise Conflict(
            "stale_version",
            _l("Lekcja zmieniła się od wczytania strony. Sprawdź ją i wybierz ponownie."),
            current_version=lesson.version,
        )
    if busy_at(teacher, lesson):
        raise Refusal(
            "substitute_busy",
            _l("Ten nauczyciel ma w tym czasie inną lekcję."),
        )
    substitute(actor, lesson, teacher)
    _publish_substituted(lesson, teacher)
    return lesson


def busy_at(teacher: User, lesson: Lesson) -> bool:
    """Whether `teacher` has another lesson (not cancelled) overlapping this one's time."""
    other = db.session.scalar(
        select(Lesson.id)
        .where(
            Lesson.teacher_id == teacher.id,
            Lesson.id != lesson.id,
            Lesson.status != LessonStatus.CANCELLED,
            Lesson.starts_at < lesson.ends_at,
            Lesson.ends_at > lesson.starts_at,
        )
        .limit(1)
    )
    return other is not None


def lesson_label(lesson: Lesson) -> str:
    """The group (or class) and room a merged lesson's pupils go to, as parents read it."""
    who = lesson.school_class.name
    if lesson.group is not None:
        who = f"{who} {lesson.group.name}"
    return f"{who}, {lesson.subject.name}, {lesson.room.name}"


@operation
def merge_lesson(
    actor: Actor, lesson: Lesson, into: Lesson, *, base_version: int | None = None
) -> Lesson:
    """The absent teacher's group joins another lesson in the same time (łączenie grup):
    `lesson` is cancelled with `merged_into_id` set (see `Lesson.merged_into_id`), its pupils
    are on the roll of `into`, and the class's parents see where their children go at once
    (`lesson.substituted` with `merged`). Merging again into the same lesson changes nothing.
    Refused: into a lesson of another time, a cancelled one (a merged one included), itself,
    or when a pupil would be in both lessons at once."""
    if lesson.merged_into_id == into.id:
        return lesson
    if lesson.status is LessonStatus.HELD:
        raise Refusal("lesson_held", _l("Lekcja z wpisanym tematem już się odbyła."))
    if lesson.status is LessonStatus.CANCELLED:
        raise Refusal("lesson_cancelled", _l("Ta lekcja została odwołana."))
    if base_version is not None and lesson.version != base_version:
        raise Conflict(
            "stale_version",
            _l("Lekcja zmieniła się od wczytania strony. Sprawdź ją i wybierz ponownie."),
            current_version=lesson.version,
        )
    if into.id == lesson.id or into.school_id != lesson.school_id:
        raise Refusal("merge_itself", _l("Lekcji nie można połączyć z nią samą."))
    if into.status is LessonStatus.CANCELLED:
        raise Refusal("merge_cancelled", _l("Nie można dołączyć grupy do odwołanej lekcji."))
    if not (into.starts_at < lesson.ends_at and into.ends_at > lesson.starts_at):
        raise Refusal("merge_other_time", _l("Łączyć można tylko lekcje w tym samym czasie."))
    if merged_into(lesson):
        raise Refusal(
            "lesson_has_merged",
            _l("Do tej lekcji dołączono już inną grupę: połącz tamtą z inną lekcją."),
        )
    theirs = {pupil.id for pupil in roster(into)}
    twice = [
        p.id for p in db.session.scalars(select(Pupil).where(pupils_of(lesson))) if p.id in theirs
    ]
    if twice:
        raise Refusal(
            "merge_pupil_twice",
            _l("Uczeń byłby na obu lekcjach naraz: tych grup nie można połączyć."),
            pupil_ids=sorted(twice),
        )
    lesson.status = LessonStatus.CANCELLED
    lesson.merged_into_id = into.id
    teacher = db.session.get_one(User, into.teacher_id)
    _publish_substituted(lesson, teacher, merged_with=lesson_label(into))
    return lesson


@dataclass(frozen=True)
class Plan:
    """What the director chose for one of the absent teacher's lessons: a substitute, a
    cancellation, or a merge into another lesson, from the lesson's `version` the page showed."""

    lesson: Lesson
    version: int | None
    teacher: User | None = None
    into: Lesson | None = None  # neither: cancel


@operation
def plan_absence(actor: Actor, plans: list[Plan]) -> int:
    """A day (or a range of days) of an absent teacher planned at once, through the same
    operations one click would use; one refusal (a conflict: another director planned the
    lesson meanwhile) refuses the whole plan, naming the lesson, so nothing is half saved.
    Returns how many lessons were planned."""
    for plan in plans:
        lesson = plan.lesson
        try:
            if plan.teacher is not None:
                substitute_lesson(actor, lesson, plan.teacher, base_version=plan.version)
            elif plan.into is not None:
                merge_lesson(actor, lesson, plan.into, base_version=plan.version)
            else:
                cancel_lesson(actor, lesson, base_version=plan.version)
        except Refusal as refusal:
            raise type(refusal)(
                refusal.code,
                _l(
                    "%(date)s, lekcja nr %(n)s (%(subject)s): %(reason)s",
                    date=lesson.date.isoformat(),
                    n=lesson.slot_number,
                    subject=lesson.subject.name,
                    reason=str(refusal.message),
                ),
                lesson_id=lesson.id,
                **refusal.details,
            ) from refusal
    return len(plans)


def _publish_substituted(lesson: Lesson, teacher: User, merged_with: str = "") -> None:
    """`lesson.substituted`: another teacher takes the lesson, or (`merged_with` the lesson it
    joined) its group sits in another group's lesson with that lesson's teacher."""
    publish(
        "lesson.substituted",
        school_id=lesson.school_id,
        audience_id=lesson.class_id,
        class_id=lesson.class_id,
        **lesson_fields(lesson),
        teacher=teacher.full_name,
        merged=bool(merged_with),
        merged_with=merged_with,
    )
