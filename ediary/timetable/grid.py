"""The weekly timetable as a grid, its clashes, and editing one cell of a class's plan.

A clash is what would put a teacher, a room or a class in two places at once in a slot, or a
teacher over the weekly hours of the assignment. The page asks `clashes` before saving (the
person sees them while choosing); `set_cell` asks again and refuses with what clashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Conflict, Refusal
from ediary.people.models import User
from ediary.schools.models import Room, School, SchoolClass, SchoolYear, Subject
from ediary.timetable.models import BellSlot, TeachingAssignment, TimetableEntry

WEEKDAYS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Clash:
    code: str  # teacher, room, class, hours
    message: str


def plan_on(school_id: int, date: dt.date) -> list[TimetableEntry]:
    """The weekly plan in force on `date`."""
    query = (
        select(TimetableEntry)
        .options(joinedload(TimetableEntry.assignment))
        .where(
            TimetableEntry.school_id == school_id,
            TimetableEntry.valid_from <= date,
            TimetableEntry.valid_to >= date,
        )
    )
    return list(db.session.scalars(query).unique())


def _same_pupils(a: TeachingAssignment, b: TeachingAssignment) -> bool:
    """Two lessons share pupils: the same class, unless two different groups of it."""
    if a.class_id != b.class_id:
        return False
    return a.group_id is None or b.group_id is None or a.group_id == b.group_id


def _describe(entry: TimetableEntry) -> str:
    a = entry.assignment
    subject = db.session.get_one(Subject, a.subject_id)
    school_class = db.session.get_one(SchoolClass, a.class_id)
    room = db.session.get_one(Room, entry.room_id)
    return f"{subject.name}, {school_class.name}, {_l('sala')} {room.name}"


def clashes(
    plan: Sequence[TimetableEntry],
    weekday: int,
    slot_number: int,
    assignment: TeachingAssignment,
    room: Room,
    *,
    ignoring: Iterable[int] = (),
) -> list[Clash]:
    """What the new entry would clash with in `plan`, the entries `ignoring` left out."""
    left_out = set(ignoring)
    found: list[Clash] = []
    here = [
        e
        for e in plan
        if e.weekday == weekday and e.slot_number == slot_number and e.id not in left_out
    ]
    teacher = db.session.get_one(User, assignment.teacher_id)
    for entry in here:
        if entry.assignment_id == assignment.id and entry.room_id == room.id:
            continue  # the entry itself
        if entry.assignment.teacher_id == assignment.teacher_id:
            found.append(
                Clash(
                    "teacher",
                    str(
                        _l(
                            "%(teacher)s ma już wtedy lekcję: %(what)s.",
                            teacher=teacher.full_name,
                            what=_describe(entry),
                        )
                    ),
                )
            )
        if entry.room_id == room.id:
            found.append(
                Clash(
                    "room",
                    str(
                        _l(
                            "Sala %(room)s jest wtedy zajęta: %(what)s.",
                            room=room.name,
                            what=_describe(entry),
                        )
                    ),
                )
            )
        if _same_pupils(entry.assignment, assignment):
            found.append(
                Clash(
                    "class",
                    str(_l("Klasa ma już wtedy lekcję: %(what)s.", what=_describe(entry))),
                )
            )
    placed = sum(
        1
        for e in plan
        if e.assignment_id == assignment.id
        and e.id not in left_out
        and not (e.weekday == weekday and e.slot_number == slot_number)
    )
    if placed + 1 > assignment.weekly_hours:
        found.append(
            Clash(
                "hours",
                str(
                    _l(
                        "%(teacher)s miałby(-aby) %(n)s godz. tygodniowo tego przydziału, "
                        "a przydział ma %(hours)s.",
                        teacher=teacher.full_name,
                        n=placed + 1,
                        hours=assignment.weekly_hours,
                    )
                ),
            )
        )
    return found


def class_cell(
    plan: Sequence[TimetableEntry], school_class: SchoolClass, weekday: int, slot_number: int
) -> list[TimetableEntry]:
    return sorted(
        (
            e
            for e in plan
            if e.assignment.class_id == school_class.id
            and e.weekday == weekday
            and e.slot_number == slot_number
        ),
        key=lambda e: e.id,
    )


def cell_fingerprint(entries: Sequence[TimetableEntry]) -> str:
    """What the cell's page showed (its stale check): its entries, their rooms and dates."""
    shown = ";".join(
        f"{e.id}-{e.assignment_id}-{e.room_id}-{e.valid_from}-{e.valid_to}" for e in entries
    )
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def replaced_by(
    cell: Sequence[TimetableEntry], assignment: TeachingAssignment | None
) -> list[TimetableEntry]:
    """The class's own entries a new one takes the place of (an empty cell: all of them); the
    other groups of the class keep theirs (two language groups at once are no clash)."""
    if assignment is None:
        return list(cell)
    return [e for e in cell if _same_pupils(e.assignment, assignment)]


def year_of(school: School, date: dt.date) -> SchoolYear:
    year = db.session.scalar(
        select(SchoolYear).where(
            SchoolYear.school_id == school.id,
            SchoolYear.starts_on <= date,
            SchoolYear.ends_on >= date,
        )
    )
    if year is None:
        raise Refusal("no_year", _l("Ta data nie należy do żadnego roku szkolnego."))
    return year


def not_past(school: School, from_date: dt.date) -> None:
    """The plan changes from today on: what was the plan on a past day stays the record of it."""
    from ediary.schools.queries import school_today

    if from_date < school_today(school):
        raise Refusal("date_past", _l("Plan można zmienić od dziś lub od późniejszej daty."))


@operation
def set_cell(
    actor: Actor,
    school: School,
    school_class: SchoolClass,
    weekday: int,
    slot_number: int,
    assignment: TeachingAssignment | None,
    room: Room | None,
    *,
    from_date: dt.date,
    seen: str | None = None,
) -> dict[str, int]:
    """From `from_date`, this cell of the class's plan holds `assignment` in `room` (None: empty).

    The entries it replaces end the day before; lessons from that date are made again from the
    plan (`regenerate`): past lessons and lessons with entries stay as they were.
    """
    from ediary.timetable.regenerate import regenerate  # regenerate imports this module

    if weekday not in WEEKDAYS:
        raise Refusal("weekday", _l("Nieprawidłowy dzień tygodnia."))
    slot = db.session.scalar(
        select(BellSlot).where(BellSlot.school_id == school.id, BellSlot.number == slot_number)
    )
    if slot is None:
        raise Refusal("slot_unknown", _l("Nie ma takiej lekcji w dzwonkach."))
    not_past(school, from_date)
    year = year_of(school, from_date)
    if assignment is not None:
        if assignment.class_id != school_class.id:
            raise Refusal("assignment_other_class", _l("Ten przydział jest innej klasy."))
        if room is None or room.school_id != school.id:
            raise Refusal("room_missing", _l("Wybierz salę tej szkoły."))
    plan = plan_on(school.id, from_date)
    cell = class_cell(plan, school_class, weekday, slot_number)
    if seen is not None and seen != cell_fingerprint(cell):
        raise Conflict(
            "stale_cell",
            _l("Ta lekcja planu zmieniła się od wczytania strony. Sprawdź ją i zapisz ponownie."),
        )
    replaced = replaced_by(cell, assignment)
    if assignment is not None and room is not None:
        if any(e.assignment_id == assignment.id and e.room_id == room.id for e in cell):
            return {"added": 0, "removed": 0, "changed": 0}  # already so: a form sent twice
        found = clashes(
            plan, weekday, slot_number, assignment, room, ignoring=[e.id for e in replaced]
        )
        if found:
            raise Refusal(
                "clash",
                " ".join(c.message for c in found),
                clashes=[c.code for c in found],
            )
    elif not replaced:
        return {"added": 0, "removed": 0, "changed": 0}
    for entry in replaced:
        entry.valid_to = from_date - dt.timedelta(days=1)  # before valid_from: never in force
    if assignment is not None and room is not None:
        again = db.session.scalar(
            select(TimetableEntry).where(
                TimetableEntry.assignment_id == assignment.id,
                TimetableEntry.weekday == weekday,
                TimetableEntry.slot_number == slot_number,
                TimetableEntry.valid_from == from_date,
            )
        )
        if again is None:
            again = TimetableEntry(
                school_id=school.id,
                assignment_id=assignment.id,
                weekday=weekday,
                slot_number=slot_number,
                valid_from=from_date,
            )
            db.session.add(again)
        again.room_id, again.valid_to = room.id, year.ends_on
    db.session.flush()
    return regenerate(school, from_date, class_ids={school_class.id})
