"""Zastępstwa (issue 14 item 3): at 7:30 the school administrator picks the absent teacher and
the day, and for each of their lessons substitutes with one click (the best free teachers are
proposed first) or cancels it. The staff room's daily list prints from its own page.

The secretary may look; only the school administrator writes (`load_plan(edit=True)`). A lesson
or teacher of another school is 404. Each button carries the lesson's version the page showed:
a lesson changed meanwhile is a conflict shown on the page, never overwritten. Both writes are
harmless sent twice (the same substitute again, or cancelling a cancelled lesson, change nothing).
"""

from __future__ import annotations

import datetime as dt

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.audit.recording import Actor
from ediary.db import db
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.people.models import User
from ediary.schools.models import School
from ediary.timetable.access import in_school, load_plan
from ediary.timetable.models import Lesson
from ediary.timetable.operations import cancel_lesson, substitute_lesson
from ediary.timetable.pages import _, bp, date_field
from ediary.timetable.substitutions import (
    PROPOSED,
    absent_lessons,
    changes_of_day,
    school_teachers,
)
from ediary.web.auth import login_required
from ediary.web.pages import perform


def _teacher(school: School, raw: str | None) -> User | None:
    """A teacher of this school by the id the form names; none named: None; else 404."""
    if not raw:
        return None
    teacher_id = parse_id(raw)
    found = db.session.get(User, teacher_id) if teacher_id else None
    if found is None or found not in school_teachers(school):
        raise NotFound()
    return found


def _day(school: School) -> tuple[dt.date, Refusal | None]:
    try:
        return date_field(school, "date"), None
    except Refusal as refusal:
        return date_field(school, ""), refusal


def _page(school: School, absent: User | None, day: dt.date, refusal: Refusal | None = None) -> str:
    return render_template(
        "plan/substitutions.html",
        school=school,
        teachers=school_teachers(school),
        absent=absent,
        day=day,
        lessons=absent_lessons(school, absent, day) if absent is not None else [],
        proposed=PROPOSED,
        editable=roles.is_school_admin(current_user, school.id),
        refusal=refusal,
    )


@bp.get("/schools/<int:school_id>/substitutions")
@login_required
def substitutions(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id)
    absent = _teacher(school, request.args.get("teacher"))
    day, refusal = _day(school)
    return _page(school, absent, day, refusal), 400 if refusal else 200


def _back(school: School, lesson: Lesson, absent: User | None) -> str:
    return url_for(
        ".substitutions",
        school_id=school.id,
        teacher=absent.id if absent is not None else None,
        date=lesson.date.isoformat(),
    )


def _version() -> int | None:
    return parse_id(request.form.get("version", ""))


@bp.post("/schools/<int:school_id>/substitutions/lessons/<int:lesson_id>")
@login_required
def substitute(school_id: int, lesson_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)
    lesson = in_school(Lesson, school, lesson_id)
    absent = _teacher(school, request.form.get("absent"))
    chosen = _teacher(school, request.form.get("teacher"))
    if chosen is None:
        raise NotFound()

    def refused(refusal: Refusal) -> str:
        return _page(school, absent, lesson.date, refusal)

    return perform(
        lambda actor: substitute_lesson(actor, lesson, chosen, base_version=_version()),
        to=_back(school, lesson, absent),
        message=_(
            "Zastępstwo zapisane: %(name)s prowadzi lekcję nr %(n)s. Rodzice klasy już to widzą.",
            name=chosen.full_name,
            n=lesson.slot_number,
        ),
        refused=refused,
    )


@bp.post("/schools/<int:school_id>/substitutions/lessons/<int:lesson_id>/cancel")
@login_required
def cancel(school_id: int, lesson_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)
    lesson = in_school(Lesson, school, lesson_id)
    absent = _teacher(school, request.form.get("absent"))

    def run(actor: Actor) -> Lesson:
        return cancel_lesson(actor, lesson, base_version=_version())

    return perform(
        run,
        to=_back(school, lesson, absent),
        message=_("Lekcja nr %(n)s odwołana. Rodzice klasy już to widzą.", n=lesson.slot_number),
        refused=lambda refusal: _page(school, absent, lesson.date, refusal),
    )


@bp.get("/schools/<int:school_id>/substitutions/day")
@login_required
def day_list(school_id: int) -> ResponseReturnValue:
    """The staff room's list of the day's substitutions and cancellations (print view)."""
    school = load_plan(current_user, school_id)
    day, _refusal = _day(school)
    return render_template(
        "plan/substitutions_day.html", school=school, day=day, rows=changes_of_day(school, day)
    )
