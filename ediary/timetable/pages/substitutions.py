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
from collections.abc import Mapping
from typing import Any

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
from ediary.timetable.operations import Plan, cancel_lesson, plan_absence, substitute_lesson
from ediary.timetable.pages import _, bp, date_field
from ediary.timetable.substitutions import (
    MAX_SCHOOL_DAYS,
    PROPOSED,
    AbsentLesson,
    absent_days,
    absent_lessons,
    changes_of_day,
    check_range,
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


# --- A teacher absent for a range of days (one form: teacher, from, to, optional reason) ---


def _range(school: School) -> tuple[dt.date, dt.date, list[dt.date], Refusal | None]:
    """The range the form names (empty: today) and its school days, or the refusal to show
    with the form as the person typed it."""
    today = date_field(school, "")
    try:
        first = date_field(school, "from")
        last = date_field(school, "to") if request.values.get("to") else first
        return first, last, check_range(school, first, last), None
    except Refusal as refusal:
        return today, today, [], refusal


def _absence_page(
    school: School,
    absent: User | None,
    days: list[dt.date],
    refusal: Refusal | None = None,
    choices: Mapping[str, str] | None = None,
) -> str:
    return render_template(
        "plan/absence.html",
        school=school,
        teachers=school_teachers(school),
        absent=absent,
        values=request.values,
        plan=absent_days(school, absent, days) if absent is not None else [],
        choices=choices or {},
        proposed=PROPOSED,
        max_days=MAX_SCHOOL_DAYS,
        editable=roles.is_school_admin(current_user, school.id),
        refusal=refusal,
    )


@bp.get("/schools/<int:school_id>/substitutions/absence")
@login_required
def absence(school_id: int) -> ResponseReturnValue:
    """The absent teacher's lessons of every school day from `from` to `to`, grouped by day,
    each with the proposals preselected: the director checks and saves a day or the range."""
    school = load_plan(current_user, school_id)
    absent = _teacher(school, request.args.get("teacher"))
    _first, _last, days, refusal = _range(school)
    return _absence_page(school, absent, days, refusal), refusal.status if refusal else 200


def _plans(school: School, items: list[AbsentLesson]) -> list[Plan]:
    """What the form chose for each listed lesson (`choice-<id>`: `t<teacher id>`, `m<lesson
    id>`, `cancel`, or empty: leave it); a teacher or lesson of another school is 404."""
    plans = []
    for item in items:
        lesson = item.lesson
        choice = request.form.get(f"choice-{lesson.id}", "")
        version = parse_id(request.form.get(f"version-{lesson.id}", ""))
        if not choice:
            continue
        if version is None:
            raise NotFound()  # not a form this page sent: it always states what it showed
        if choice == "cancel":
            plans.append(Plan(lesson, version))
        elif choice.startswith("t"):
            teacher = _teacher(school, choice[1:])
            plans.append(Plan(lesson, version, teacher=teacher))
        elif choice.startswith("m"):
            into_id = parse_id(choice[1:])
            if into_id is None:
                raise NotFound()
            plans.append(Plan(lesson, version, into=in_school(Lesson, school, into_id)))
        else:
            raise NotFound()
    return plans


@bp.post("/schools/<int:school_id>/substitutions/absence")
@login_required
def absence_save(school_id: int) -> ResponseReturnValue:
    """Saves one day of the range (`day`) or all of it (empty `day`): one commit, through
    `plan_absence`; a lesson another director changed meanwhile refuses it all, visibly."""
    school = load_plan(current_user, school_id, edit=True)
    absent = _teacher(school, request.form.get("teacher"))
    if absent is None:
        raise NotFound()
    _first, _last, days, refusal = _range(school)
    choices = {k: v for k, v in request.form.items() if k.startswith("choice-")}
    if refusal is not None:
        return _absence_page(school, absent, days, refusal, choices), refusal.status
    chosen_day = request.form.get("day", "")
    saved = [d for d in days if d.isoformat() == chosen_day] if chosen_day else days
    if chosen_day and not saved:
        raise NotFound()
    items = [item for _day, lessons in absent_days(school, absent, saved) for item in lessons]
    plans = _plans(school, items)
    kept: dict[str, Any] = {
        k: request.form[k] for k in ("from", "to", "reason") if request.form.get(k)
    }
    back = url_for(".absence", school_id=school.id, teacher=absent.id, **kept)
    return perform(
        lambda actor: plan_absence(actor, plans),
        to=back,
        message=_(
            "Zapisano %(n)s lekcji. Rodzice klas już to widzą.",
            n=len(plans),
        ),
        refused=lambda refused: _absence_page(school, absent, days, refused, choices),
    )
