"""The console's start page, the bell schedule, subjects, rooms, assignments, and applying the
plan from a date: each a form of one operation through `perform`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from ediary.access import roles
from ediary.audit.recording import Actor
from ediary.db import db
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.people.models import Membership, Role, User
from ediary.schools.models import ClassGroup, Room, School, SchoolClass, Subject
from ediary.schools.queries import school_today
from ediary.timetable.access import in_school, load_plan
from ediary.timetable.models import TeachingAssignment, TimetableEntry
from ediary.timetable.pages import _, bp, date_field
from ediary.timetable.planning import (
    SlotTimes,
    bell_slots,
    bells_fingerprint,
    remove_assignment,
    save_assignment,
    save_bell_schedule,
    save_room,
    save_subject,
)
from ediary.timetable.regenerate import apply_timetable
from ediary.web.auth import login_required
from ediary.web.pages import perform

EMPTY_BELL_ROWS = 3


def teachers_of(school: School) -> list[User]:
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == school.id, Membership.role == Role.TEACHER)
        .order_by(User.last_name, User.first_name)
    )
    return list(db.session.scalars(query).unique())


def classes_of(school: School) -> list[SchoolClass]:
    query = select(SchoolClass).where(SchoolClass.school_id == school.id)
    today = school_today(school)
    return sorted(
        (c for c in db.session.scalars(query) if _current(c, today)),
        key=lambda c: (c.grade_level, c.name),
    )


def _current(school_class: SchoolClass, today: dt.date) -> bool:
    from ediary.schools.models import SchoolYear

    year = db.session.get(SchoolYear, school_class.year_id)
    return year is not None and year.starts_on <= today <= year.ends_on


def rooms_of(school: School) -> list[Room]:
    query = select(Room).where(Room.school_id == school.id).order_by(Room.name)
    return list(db.session.scalars(query))


def subjects_of(school: School) -> list[Subject]:
    query = select(Subject).where(Subject.school_id == school.id).order_by(Subject.name)
    return list(db.session.scalars(query))


def _editable(school: School) -> bool:
    return roles.is_school_admin(current_user, school.id)


@bp.get("/schools/<int:school_id>/plan")
@login_required
def index(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id)
    return _index(school)


def _index(school: School, refusal: Refusal | None = None) -> str:
    return render_template(
        "plan/index.html",
        school=school,
        classes=classes_of(school),
        teachers=teachers_of(school),
        rooms=rooms_of(school),
        editable=_editable(school),
        today=school_today(school),
        typed=request.form,
        refusal=refusal,
    )


@bp.post("/schools/<int:school_id>/plan/apply")
@login_required
def apply(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)

    def run(actor: Actor) -> dict[str, int]:
        return apply_timetable(actor, school, date_field(school))

    return perform(
        run,
        to=url_for(".index", school_id=school.id),
        message=lambda counts: _(
            "Plan zastosowany: dodano %(added)s, usunięto %(removed)s, zmieniono %(changed)s "
            "lekcji. Lekcje, które się odbyły lub mają wpisy, zostały bez zmian.",
            **counts,
        ),
        refused=lambda refusal: _index(school, refusal),
    )


# --- the bell schedule ----------------------------------------------------------------------


@bp.get("/schools/<int:school_id>/plan/bells")
@login_required
def bells(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id)
    return _bells(school)


def _bells(school: School, refusal: Refusal | None = None) -> str:
    slots = bell_slots(school.id)
    if request.method == "POST":
        rows = _typed_bell_rows()
    else:
        rows = [
            {"number": str(s.number), "start": f"{s.starts_at:%H:%M}", "end": f"{s.ends_at:%H:%M}"}
            for s in slots
        ] + [{"number": "", "start": "", "end": ""}] * EMPTY_BELL_ROWS
    return render_template(
        "plan/bells.html",
        school=school,
        rows=rows,
        seen=request.form.get("seen") or bells_fingerprint(slots),
        editable=_editable(school),
        refusal=refusal,
    )


def _typed_bell_rows() -> list[dict[str, str]]:
    count = min(parse_id(request.form.get("rows", "0")) or 0, 40)
    return [
        {
            "number": request.form.get(f"number-{i}", "").strip(),
            "start": request.form.get(f"start-{i}", "").strip(),
            "end": request.form.get(f"end-{i}", "").strip(),
        }
        for i in range(count)
    ]


def _slot_times(rows: list[dict[str, str]]) -> list[SlotTimes]:
    wanted = []
    for position, row in enumerate(rows, start=1):
        if not any(row.values()):
            continue  # an empty row, or one emptied to remove the lesson
        try:
            number = int(row["number"])
            starts = dt.time.fromisoformat(row["start"])
            ends = dt.time.fromisoformat(row["end"])
        except ValueError:
            raise Refusal(
                "bells_invalid",
                _(
                    "Wiersz %(n)s: podaj numer lekcji oraz godziny początku i końca (GG:MM).",
                    n=position,
                ),
            ) from None
        wanted.append(SlotTimes(number, starts.replace(second=0), ends.replace(second=0)))
    return wanted


@bp.post("/schools/<int:school_id>/plan/bells")
@login_required
def save_bells(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)

    def run(actor: Actor) -> object:
        wanted = _slot_times(_typed_bell_rows())
        return save_bell_schedule(actor, school, wanted, seen=request.form.get("seen") or None)

    return perform(
        run,
        to=url_for(".bells", school_id=school.id),
        message=_("Zapisano dzwonki."),
        refused=lambda refusal: _bells(school, refusal),
    )


# --- subjects and rooms ---------------------------------------------------------------------


@bp.get("/schools/<int:school_id>/plan/subjects")
@login_required
def subjects(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id)
    return _names(school, "subjects")


@bp.get("/schools/<int:school_id>/plan/rooms")
@login_required
def rooms(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id)
    return _names(school, "rooms")


def _names(school: School, kind: str, refusal: Refusal | None = None) -> str:
    rows: list[Any] = subjects_of(school) if kind == "subjects" else rooms_of(school)
    return render_template(
        "plan/names.html",
        school=school,
        kind=kind,
        rows=rows,
        editable=_editable(school),
        typed=request.form if request.method == "POST" else {},
        refusal=refusal,
    )


@bp.post("/schools/<int:school_id>/plan/subjects")
@login_required
def save_subject_page(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)
    raw = request.form.get("id", "")
    subject = in_school(Subject, school, raw) if raw else None

    def run(actor: Actor) -> Subject:
        name, short = request.form.get("name", ""), request.form.get("short_name", "")
        return save_subject(actor, school, subject, name, short)

    return perform(
        run,
        to=url_for(".subjects", school_id=school.id),
        message=lambda saved: _("Zapisano przedmiot „%(name)s”.", name=saved.name),
        refused=lambda refusal: _names(school, "subjects", refusal),
    )


@bp.post("/schools/<int:school_id>/plan/rooms")
@login_required
def save_room_page(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)
    raw = request.form.get("id", "")
    room = in_school(Room, school, raw) if raw else None

    def run(actor: Actor) -> Room:
        return save_room(actor, school, room, request.form.get("name", ""))

    return perform(
        run,
        to=url_for(".rooms", school_id=school.id),
        message=lambda saved: _("Zapisano salę „%(name)s”.", name=saved.name),
        refused=lambda refusal: _names(school, "rooms", refusal),
    )


# --- teaching assignments -------------------------------------------------------------------


@bp.get("/schools/<int:school_id>/plan/assignments")
@login_required
def assignments(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id)
    return _assignments(school)


def _assignments(school: School, refusal: Refusal | None = None) -> str:
    today = school_today(school)
    placed = dict(
        db.session.execute(
            select(TimetableEntry.assignment_id, func.count())
            .where(
                TimetableEntry.school_id == school.id,
                TimetableEntry.valid_from <= today,
                TimetableEntry.valid_to >= today,
            )
            .group_by(TimetableEntry.assignment_id)
        ).all()
    )
    rows = db.session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.school_id == school.id)
    ).all()
    names = {
        "teachers": {t.id: t for t in teachers_of(school)},
        "classes": {
            c.id: c
            for c in db.session.scalars(
                select(SchoolClass).where(SchoolClass.school_id == school.id)
            )
        },
        "subjects": {s.id: s for s in subjects_of(school)},
        "groups": {
            g.id: g
            for g in db.session.scalars(select(ClassGroup).where(ClassGroup.school_id == school.id))
        },
    }
    ever_placed = set(
        db.session.scalars(
            select(TimetableEntry.assignment_id).where(TimetableEntry.school_id == school.id)
        )
    )
    return render_template(
        "plan/assignments.html",
        school=school,
        rows=rows,
        placed=placed,
        ever_placed=ever_placed,
        names=names,
        classes=classes_of(school),
        editable=_editable(school),
        typed=request.form if request.method == "POST" else {},
        refusal=refusal,
    )


@bp.post("/schools/<int:school_id>/plan/assignments")
@login_required
def save_assignment_page(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)

    def run(actor: Actor) -> TeachingAssignment:
        form = request.form
        if not all(form.get(f) for f in ("teacher", "class", "subject")):
            raise Refusal("assignment_incomplete", _("Wybierz nauczyciela, klasę i przedmiot."))
        teacher = db.session.get(User, parse_id(form.get("teacher", "")) or 0)
        if teacher is None:
            raise Refusal("not_a_teacher", _("Wybrana osoba nie jest nauczycielem tej szkoły."))
        school_class = in_school(SchoolClass, school, form.get("class"))
        subject = in_school(Subject, school, form.get("subject"))
        group = in_school(ClassGroup, school, form.get("group")) if form.get("group") else None
        hours = parse_id(form.get("hours", "").strip())
        if hours is None:
            raise Refusal("hours_range", _("Podaj liczbę godzin tygodniowo (1-40)."))
        return save_assignment(actor, school, teacher, school_class, subject, group, hours)

    return perform(
        run,
        to=url_for(".assignments", school_id=school.id),
        message=_("Zapisano przydział."),
        refused=lambda refusal: _assignments(school, refusal),
    )


@bp.post("/schools/<int:school_id>/plan/assignments/remove")
@login_required
def remove_assignment_page(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)

    def run(actor: Actor) -> None:
        if not request.form.get("id"):
            raise Refusal("assignment_none", _("Wybierz przydział do usunięcia."))
        remove_assignment(actor, school, in_school(TeachingAssignment, school, request.form["id"]))

    return perform(
        run,
        to=url_for(".assignments", school_id=school.id),
        message=_("Usunięto przydział."),
        refused=lambda refusal: _assignments(school, refusal),
    )
