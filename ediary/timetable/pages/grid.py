"""The weekly timetable as a grid (days × bell slots) per class, teacher or room, and the cell
editor of a class's plan: what the choice would clash with is shown before saving ("Sprawdź"),
and saving refuses a clash with what clashes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.audit.recording import Actor
from ediary.db import db
from ediary.documents.pdf import pdf_response, render_pdf
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.people.models import User
from ediary.schools.models import ClassGroup, Room, School, SchoolClass, Subject
from ediary.timetable.access import in_school, load_plan
from ediary.timetable.grid import (
    WEEKDAYS,
    Clash,
    cell_fingerprint,
    clashes,
    class_cell,
    plan_on,
    replaced_by,
    set_cell,
)
from ediary.timetable.models import TeachingAssignment, TimetableEntry
from ediary.timetable.pages import _, bp, date_field
from ediary.timetable.pages.setup import rooms_of
from ediary.timetable.planning import bell_slots, teaches_here
from ediary.web.auth import login_required
from ediary.web.pages import perform

KINDS = ("class", "teacher", "room")


@dataclass(frozen=True)
class Shown:
    """An entry as a grid cell says it."""

    entry: TimetableEntry
    subject: Subject
    school_class: SchoolClass
    group: ClassGroup | None
    teacher: User
    room: Room


def day_names() -> list[str]:
    return [_("poniedziałek"), _("wtorek"), _("środa"), _("czwartek"), _("piątek")]


def shown(entries: list[TimetableEntry]) -> list[Shown]:
    return [
        Shown(
            e,
            db.session.get_one(Subject, e.assignment.subject_id),
            db.session.get_one(SchoolClass, e.assignment.class_id),
            db.session.get(ClassGroup, e.assignment.group_id) if e.assignment.group_id else None,
            db.session.get_one(User, e.assignment.teacher_id),
            db.session.get_one(Room, e.room_id),
        )
        for e in entries
    ]


def _owner(school: School, kind: str, object_id: int) -> SchoolClass | User | Room:
    if kind == "class":
        return in_school(SchoolClass, school, object_id)
    if kind == "room":
        return in_school(Room, school, object_id)
    teacher = db.session.get(User, object_id)
    if kind != "teacher" or teacher is None or not teaches_here(teacher, school.id):
        raise NotFound()
    return teacher


@bp.get("/schools/<int:school_id>/plan/grid/<whose>")
@login_required
def grid(school_id: int, whose: str) -> ResponseReturnValue:
    """`whose` is `class-7`, `teacher-3` or `room-12` (an id past the database's integer: 404)."""
    school = load_plan(current_user, school_id)
    return render_template("plan/grid.html", **_grid(school, whose))


@bp.get("/schools/<int:school_id>/plan/grid/<whose>/print")
@login_required
def grid_print(school_id: int, whose: str) -> ResponseReturnValue:
    """The print view (A4, landscape) for the staff room or a classroom's door."""
    school = load_plan(current_user, school_id)
    return render_template("plan/grid_print.html", **_grid(school, whose))


@bp.get("/schools/<int:school_id>/plan/grid/<whose>/pdf")
@login_required
def grid_pdf(school_id: int, whose: str) -> ResponseReturnValue:
    school = load_plan(current_user, school_id)
    context = _grid(school, whose)
    data = render_pdf("plan/grid_print.html", **context)
    return pdf_response(data, f"plan-{whose}-{context['on'].isoformat()}.pdf")


def _grid(school: School, whose: str) -> dict[str, Any]:
    kind, _dash, raw = whose.partition("-")
    object_id = parse_id(raw)
    if object_id is None or kind not in KINDS:
        raise NotFound()
    owner = _owner(school, kind, object_id)
    try:
        on = date_field(school, "on")
    except Refusal:
        on = date_field(school, "")
    plan = plan_on(school.id, on)
    if kind == "class":
        mine = [e for e in plan if e.assignment.class_id == owner.id]
    elif kind == "teacher":
        mine = [e for e in plan if e.assignment.teacher_id == owner.id]
    else:
        mine = [e for e in plan if e.room_id == owner.id]
    cells: dict[tuple[int, int], list[Shown]] = {}
    for item in shown(mine):
        cells.setdefault((item.entry.weekday, item.entry.slot_number), []).append(item)
    return {
        "school": school,
        "kind": kind,
        "whose": whose,
        "owner": owner,
        "on": on,
        "slots": bell_slots(school.id),
        "days": list(zip(WEEKDAYS, day_names(), strict=True)),
        "cells": cells,
        "editable": kind == "class" and roles.is_school_admin(current_user, school.id),
    }


def _cell_args(school: School, class_id: int, cell: str) -> tuple[SchoolClass, int, int]:
    """The class, and the cell's weekday and lesson number from `cell`: `1-0` is Monday's lesson
    0 (a path segment, not `<int:>`: ids start at 1, a lesson number may be 0)."""
    school_class = in_school(SchoolClass, school, class_id)
    day, _dash, number = cell.partition("-")
    if not (day.isascii() and day.isdigit() and number.isascii() and number.isdigit()):
        raise NotFound()
    if len(day) > 1 or len(number) > 2:
        raise NotFound()
    weekday, slot = int(day) - 1, int(number)
    if weekday not in WEEKDAYS or slot not in {s.number for s in bell_slots(school.id)}:
        raise NotFound()
    return school_class, weekday, slot


def _choice(
    school: School, school_class: SchoolClass
) -> tuple[TeachingAssignment | None, Room | None]:
    """The assignment and room the form names (GET to check, POST to save); empty: none."""
    raw_assignment = request.values.get("assignment", "")
    raw_room = request.values.get("room", "")
    assignment = in_school(TeachingAssignment, school, raw_assignment) if raw_assignment else None
    if assignment is not None and assignment.class_id != school_class.id:
        raise NotFound()
    room = in_school(Room, school, raw_room) if raw_room else None
    return assignment, room


@bp.get("/schools/<int:school_id>/plan/classes/<int:class_id>/cells/<cell>")
@login_required
def cell(school_id: int, class_id: int, cell: str) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)
    school_class, weekday, slot = _cell_args(school, class_id, cell)
    return _cell(school, school_class, weekday, slot, checked="check" in request.args)


# The cell page reads its choice from the query (a link) or the form (after "Sprawdź").


def _cell(
    school: School,
    school_class: SchoolClass,
    weekday: int,
    slot: int,
    *,
    checked: bool = False,
    refusal: Refusal | None = None,
) -> str:
    try:
        from_date = date_field(school)
    except Refusal:
        from_date = date_field(school, "")
    plan = plan_on(school.id, from_date)
    current = class_cell(plan, school_class, weekday, slot)
    assignment, room = _choice(school, school_class)
    replaced = replaced_by(current, assignment)
    ignoring = [e.id for e in replaced]
    found: list[Clash] = []
    if checked and assignment is not None and room is not None:
        found = clashes(plan, weekday, slot, assignment, room, ignoring=ignoring)
    options = db.session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.class_id == school_class.id)
    ).all()
    # Shown while choosing: what each assignment or room would clash with in this slot.
    marks: dict[int, str] = {}
    all_rooms = rooms_of(school)
    any_room = room or (all_rooms[0] if all_rooms else None)
    for option in options:
        if any_room is None:
            break
        codes = {
            c.code
            for c in clashes(
                plan,
                weekday,
                slot,
                option,
                any_room,
                ignoring=[e.id for e in replaced_by(current, option)],
            )
            if c.code != "room"
        }
        marks[option.id] = ", ".join(sorted(_code_names()[c] for c in codes))
    busy_rooms = {
        e.room_id
        for e in plan
        if e.weekday == weekday and e.slot_number == slot and e.id not in ignoring
    }
    return render_template(
        "plan/cell.html",
        school=school,
        school_class=school_class,
        weekday=weekday,
        day=day_names()[weekday],
        slot=slot,
        from_date=from_date,
        current=shown(current),
        replaced={e.id for e in replaced},
        options=shown_options(options),
        marks=marks,
        rooms=rooms_of(school),
        busy_rooms=busy_rooms,
        chosen_assignment=assignment.id if assignment else None,
        chosen_room=room.id if room else None,
        clashes=found,
        checked=checked,
        seen=request.form.get("seen") or cell_fingerprint(current),
        refusal=refusal,
        nothing_saved=True,
    )


def _code_names() -> dict[str, str]:
    return {
        "teacher": _("nauczyciel zajęty"),
        "class": _("klasa ma lekcję"),
        "hours": _("ponad godziny przydziału"),
        "room": _("sala zajęta"),
    }


def shown_options(options: Sequence[TeachingAssignment]) -> list[tuple[int, str]]:
    made = []
    for a in options:
        subject = db.session.get_one(Subject, a.subject_id)
        teacher = db.session.get_one(User, a.teacher_id)
        group = db.session.get(ClassGroup, a.group_id) if a.group_id else None
        label = f"{subject.name} ({group.name})" if group else subject.name
        made.append((a.id, f"{label} — {teacher.full_name}"))
    return sorted(made, key=lambda o: o[1])


@bp.post("/schools/<int:school_id>/plan/classes/<int:class_id>/cells/<cell>")
@login_required
def save_cell(school_id: int, class_id: int, cell: str) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)
    school_class, weekday, slot = _cell_args(school, class_id, cell)
    assignment, room = _choice(school, school_class)
    if request.form.get("check"):  # "Sprawdź konflikty": the same page with them, nothing saved
        return _cell(school, school_class, weekday, slot, checked=True)

    def run(actor: Actor) -> dict[str, int]:
        if assignment is not None and room is None:
            raise Refusal("room_missing", _("Wybierz salę."))
        return set_cell(
            actor,
            school,
            school_class,
            weekday,
            slot,
            assignment,
            room,
            from_date=date_field(school),
            seen=request.form.get("seen") or None,
        )

    return perform(
        run,
        to=url_for(".grid", school_id=school.id, whose=f"class-{school_class.id}"),
        message=lambda counts: _(
            "Zapisano plan. Lekcje od tej daty: dodano %(added)s, usunięto %(removed)s.",
            **counts,
        ),
        refused=lambda refusal: _cell(school, school_class, weekday, slot, refusal=refusal),
    )
