"""The director's plan of the school: the bell schedule, subjects, rooms, teaching assignments.

Each write is an operation (history through `@operation`); a refusal says in Polish what to fix,
and the page shows it on the form with what was typed. Pages that list many rows at once (the
bell schedule) carry a fingerprint of what they showed: a schedule changed meanwhile is a
`Conflict`, never silently overwritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ediary.access.revocation import access_changed
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Conflict, Refusal
from ediary.people.models import Role, User
from ediary.schools.models import ClassGroup, Room, School, SchoolClass, Subject
from ediary.timetable.models import BellSlot, TeachingAssignment, TimetableEntry

MAX_SLOTS = 16
MAX_WEEKLY_HOURS = 40


@dataclass(frozen=True)
class SlotTimes:
    number: int
    starts_at: dt.time
    ends_at: dt.time


def bell_slots(school_id: int) -> list[BellSlot]:
    query = select(BellSlot).where(BellSlot.school_id == school_id).order_by(BellSlot.number)
    return list(db.session.scalars(query))


def bells_fingerprint(slots: Sequence[BellSlot]) -> str:
    """What a bell schedule page showed, in a few characters (its stale check)."""
    shown = ";".join(f"{s.number}-{s.starts_at:%H:%M}-{s.ends_at:%H:%M}" for s in slots)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def check_bells(wanted: Sequence[SlotTimes]) -> None:
    """Numbers unique and in range, each lesson ending after it starts, no overlaps, in order."""
    if len(wanted) > MAX_SLOTS:
        raise Refusal("bells_too_many", _l("Najwyżej %(n)s lekcji dziennie.", n=MAX_SLOTS))
    numbers = [s.number for s in wanted]
    if len(set(numbers)) != len(numbers):
        raise Refusal("bells_duplicate", _l("Numer lekcji powtarza się."))
    ordered = sorted(wanted, key=lambda s: s.number)
    for slot in ordered:
        if not 0 <= slot.number < MAX_SLOTS:
            raise Refusal("bells_number", _l("Numer lekcji musi być od 0 do 15."))
        if slot.ends_at <= slot.starts_at:
            raise Refusal(
                "bells_order",
                _l("Lekcja nr %(n)s musi kończyć się po swoim początku.", n=slot.number),
            )
    for before, after in itertools.pairwise(ordered):
        if after.starts_at < before.ends_at:
            raise Refusal(
                "bells_overlap",
                _l(
                    "Lekcja nr %(a)s zaczyna się, zanim skończy się lekcja nr %(b)s.",
                    a=after.number,
                    b=before.number,
                ),
            )


@operation
def save_bell_schedule(
    actor: Actor, school: School, wanted: Sequence[SlotTimes], *, seen: str | None = None
) -> list[BellSlot]:
    """Replaces the school's bell schedule; a number the timetable uses cannot go."""
    current = {s.number: s for s in bell_slots(school.id)}
    if seen is not None and seen != bells_fingerprint(list(current.values())):
        raise Conflict(
            "stale_bells",
            _l("Dzwonki zmieniły się od wczytania strony. Sprawdź je i zapisz ponownie."),
        )
    check_bells(wanted)
    kept = {s.number for s in wanted}
    for number, gone in current.items():
        if number in kept:
            continue
        used = db.session.scalar(
            select(func.count())
            .select_from(TimetableEntry)
            .where(TimetableEntry.school_id == school.id, TimetableEntry.slot_number == number)
        )
        if used:
            raise Refusal(
                "bells_in_use",
                _l("Lekcja nr %(n)s jest w planie lekcji: najpierw usuń ją z planu.", n=number),
            )
        db.session.delete(gone)
    saved = []
    for times in sorted(wanted, key=lambda s: s.number):
        slot = current.get(times.number)
        if slot is None:
            slot = BellSlot(school_id=school.id, number=times.number)
            db.session.add(slot)
        slot.starts_at, slot.ends_at = times.starts_at, times.ends_at
        saved.append(slot)
    return saved


def _text(value: str, limit: int, code: str, what: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise Refusal(f"{code}_empty", _l("Podaj %(what)s.", what=what))
    if len(cleaned) > limit:
        raise Refusal(
            f"{code}_too_long", _l("%(what)s: najwyżej %(n)s znaków.", what=what, n=limit)
        )
    return cleaned


@operation
def save_subject(
    actor: Actor, school: School, subject: Subject | None, name: str, short_name: str
) -> Subject:
    """Adds a subject, or renames one; names are unique in the school."""
    name = _text(name, 80, "subject_name", str(_l("nazwę przedmiotu")))
    short_name = _text(short_name, 12, "subject_short", str(_l("skrót przedmiotu")))
    twin = db.session.scalar(
        select(Subject).where(
            Subject.school_id == school.id, func.lower(Subject.name) == name.lower()
        )
    )
    if twin is not None and twin is not subject:
        raise Refusal("subject_exists", _l("Przedmiot „%(name)s” już jest.", name=twin.name))
    if subject is None:
        subject = Subject(school_id=school.id, name=name, short_name=short_name)
        db.session.add(subject)
    else:
        subject.name, subject.short_name = name, short_name
    return subject


@operation
def save_room(actor: Actor, school: School, room: Room | None, name: str) -> Room:
    """Adds a room, or renames one; names are unique in the school."""
    name = _text(name, 40, "room_name", str(_l("nazwę sali")))
    twin = db.session.scalar(
        select(Room).where(Room.school_id == school.id, func.lower(Room.name) == name.lower())
    )
    if twin is not None and twin is not room:
        raise Refusal("room_exists", _l("Sala „%(name)s” już jest.", name=twin.name))
    if room is None:
        room = Room(school_id=school.id, name=name)
        db.session.add(room)
    else:
        room.name = name
    return room


def teaches_here(teacher: User, school_id: int) -> bool:
    return any(m.role is Role.TEACHER and m.school_id == school_id for m in teacher.memberships)


@operation
def save_assignment(
    actor: Actor,
    school: School,
    teacher: User,
    school_class: SchoolClass,
    subject: Subject,
    group: ClassGroup | None,
    weekly_hours: int,
) -> TeachingAssignment:
    """A przydział with its weekly hours; the same teacher, class, group and subject again
    changes the hours of the one there is."""
    if not teaches_here(teacher, school.id):
        raise Refusal("not_a_teacher", _l("Wybrana osoba nie jest nauczycielem tej szkoły."))
    if school_class.school_id != school.id or subject.school_id != school.id:
        raise Refusal("other_school", _l("Klasa i przedmiot muszą być z tej szkoły."))
    if group is not None and group.class_id != school_class.id:
        raise Refusal("group_other_class", _l("Ta grupa nie należy do tej klasy."))
    if not 1 <= weekly_hours <= MAX_WEEKLY_HOURS:
        raise Refusal(
            "hours_range",
            _l("Liczba godzin tygodniowo musi być od 1 do %(n)s.", n=MAX_WEEKLY_HOURS),
        )
    assignment = db.session.scalar(
        select(TeachingAssignment).where(
            TeachingAssignment.teacher_id == teacher.id,
            TeachingAssignment.class_id == school_class.id,
            TeachingAssignment.subject_id == subject.id,
            TeachingAssignment.group_id.is_(None)
            if group is None
            else TeachingAssignment.group_id == group.id,
        )
    )
    if assignment is None:
        assignment = TeachingAssignment(
            school_id=school.id,
            teacher_id=teacher.id,
            class_id=school_class.id,
            group_id=group.id if group is not None else None,
            subject_id=subject.id,
        )
        db.session.add(assignment)
        access_changed(teacher.id)  # an assignment decides which pupils a teacher reads
    assignment.weekly_hours = weekly_hours
    return assignment


@operation
def remove_assignment(actor: Actor, school: School, assignment: TeachingAssignment) -> None:
    """Removes a przydział that was never placed in the plan. One that was stays: its entries
    and the lessons made from them are the record of past weeks (change its hours instead, or
    take its lessons out of the plan from a date)."""
    if assignment.school_id != school.id:
        raise Refusal("other_school", _l("Ten przydział jest innej szkoły."))
    placed = db.session.scalar(
        select(func.count())
        .select_from(TimetableEntry)
        .where(TimetableEntry.assignment_id == assignment.id)
    )
    if placed:
        raise Refusal(
            "assignment_in_plan",
            _l("Ten przydział jest lub był w planie lekcji, więc zostaje w historii."),
        )
    access_changed(assignment.teacher_id)  # the teacher no longer reads the class's pupils
    db.session.delete(assignment)
