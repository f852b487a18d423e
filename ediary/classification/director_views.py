"""The director's classification pages (school_admin of the school, anyone else 404): the
council dates and proposal deadlines, a class's final grades, and the correction of one final
grade after the council (with its reason, kept in the history)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.audit.recording import Actor
from ediary.classification.operations import (
    calendar_state,
    correct_final_grade,
    set_council_calendar,
)
from ediary.classification.queries import calendar_of, class_finals
from ediary.classification.values import (
    FINAL_KINDS,
    MAX_DESCRIPTIVE,
    VALUE_NAMES,
    VALUES,
    is_descriptive_level,
)
from ediary.db import db
from ediary.diary.models import Grade
from ediary.errors import Refusal
from ediary.ids import id_arg, parse_id
from ediary.people.models import User
from ediary.schools.models import Pupil, School, SchoolClass, SchoolYear, Subject, Term
from ediary.schools.queries import current_term, school_today
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("classification_director", __name__)


def load_school(user: User, school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None or not roles.is_school_admin(user, school.id):
        raise NotFound()
    return school


def _open_terms(school: School) -> list[Term]:
    """The terms of the school's years not yet closed by the rollover, oldest first."""
    query = (
        select(Term)
        .join(SchoolYear, SchoolYear.id == Term.year_id)
        .where(SchoolYear.school_id == school.id, SchoolYear.closed_at.is_(None))
        .order_by(SchoolYear.starts_on, Term.number)
    )
    return list(db.session.scalars(query))


def _calendar_page(
    school: School, typed: dict[str, str] | None = None, refusal: Refusal | None = None
) -> str:
    terms = _open_terms(school)
    today = school_today(school)
    classes = db.session.scalars(
        select(SchoolClass)
        .where(SchoolClass.year_id.in_({t.year_id for t in terms}))
        .order_by(SchoolClass.name)
    ).all()
    return render_template(
        "classification/calendar.html",
        school=school,
        terms=terms,
        calendars={t.id: calendar_of(t, today) for t in terms},
        classes=classes,
        seen=calendar_state(school, terms),
        typed=typed,
        refusal=refusal,
    )


@bp.get("/classification/schools/<int:school_id>")
@login_required
def calendar(school_id: int) -> ResponseReturnValue:
    return _calendar_page(load_school(current_user, school_id))


def _date(raw: str, term: Term) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Refusal(
            "date_invalid",
            _("Data rady za okres %(n)s: podaj datę w postaci RRRR-MM-DD.", n=term.number),
        ) from None


def _days(raw: str) -> int:
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4:
        raise Refusal("days_invalid", _("Liczba dni przed radą to liczba całkowita."))
    return int(raw)


@bp.post("/classification/schools/<int:school_id>")
@login_required
def save_calendar(school_id: int) -> ResponseReturnValue:
    school = load_school(current_user, school_id)
    terms = _open_terms(school)
    typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
    seen = {k[len("seen_") :]: v for k, v in request.form.items() if k.startswith("seen_")}

    def run(actor: Actor) -> None:
        councils = {t: _date(request.form.get(f"council_{t.id}", ""), t) for t in terms}
        set_council_calendar(
            actor,
            school,
            councils=councils,
            failing_days=_days(request.form.get("failing_days", "")),
            other_days=_days(request.form.get("other_days", "")),
            seen=seen,
        )

    def refused(refusal: Refusal) -> str:
        return _calendar_page(db.session.get_one(School, school_id), typed, refusal)

    return perform(
        run,
        to=url_for("classification_director.calendar", school_id=school_id),
        message=_("Zapisano terminy klasyfikacji."),
        refused=refused,
    )


def _class_term(school_class: SchoolClass) -> Term:
    terms = list(
        db.session.scalars(
            select(Term).where(Term.year_id == school_class.year_id).order_by(Term.number)
        )
    )
    if not terms:
        raise NotFound()
    wanted = id_arg("term")
    if wanted is None:
        return current_term(terms, school_today(school_class.school))
    for term in terms:
        if term.id == wanted:
            return term
    raise NotFound()


@bp.get("/classification/classes/<int:class_id>/finals")
@login_required
def finals(class_id: int) -> ResponseReturnValue:
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None or not roles.is_school_admin(current_user, school_class.school_id):
        raise NotFound()
    term = _class_term(school_class)
    terms = db.session.scalars(
        select(Term).where(Term.year_id == school_class.year_id).order_by(Term.number)
    ).all()
    return render_template(
        "classification/finals.html",
        school_class=school_class,
        term=term,
        terms=terms,
        calendar=calendar_of(term, school_today(school_class.school)),
        rows=class_finals(school_class, term),
        value_names=VALUE_NAMES,
    )


def load_final(user: User, grade_id: int) -> Grade:
    grade = db.session.get(Grade, grade_id)
    if (
        grade is None
        or grade.kind not in FINAL_KINDS
        or grade.removed
        or not roles.is_school_admin(user, grade.school_id)
    ):
        raise NotFound()
    return grade


def _correction_page(
    grade: Grade, typed: dict[str, str] | None = None, refusal: Refusal | None = None
) -> str:
    pupil = db.session.get_one(Pupil, grade.pupil_id)
    return render_template(
        "classification/correction.html",
        grade=grade,
        pupil=pupil,
        subject=db.session.get_one(Subject, grade.subject_id),
        term=db.session.get_one(Term, grade.term_id),
        typed=typed or {},
        refusal=refusal,
        values=VALUES,
        value_names=VALUE_NAMES,
        max_descriptive=MAX_DESCRIPTIVE,
        descriptive=is_descriptive_level(pupil.school_class.grade_level),
    )


@bp.get("/classification/grades/<int:grade_id>/correction")
@login_required
def correction(grade_id: int) -> ResponseReturnValue:
    return _correction_page(load_final(current_user, grade_id))


@bp.post("/classification/grades/<int:grade_id>/correction")
@login_required
def correct(grade_id: int) -> ResponseReturnValue:
    grade = load_final(current_user, grade_id)
    typed = {k: request.form.get(k, "") for k in ("value", "reason", "version")}
    version = parse_id(typed["version"]) if typed["version"] else None
    pupil = db.session.get_one(Pupil, grade.pupil_id)
    back = url_for("classification_director.finals", class_id=pupil.class_id, term=grade.term_id)

    def refused(refusal: Refusal) -> str:
        return _correction_page(db.session.get_one(Grade, grade_id), typed, refusal)

    return perform(
        lambda actor: correct_final_grade(
            actor, grade, typed["value"], typed["reason"], seen_version=version
        ),
        to=back,
        message=_("Zapisano korektę oceny (z uzasadnieniem w historii)."),
        refused=refused,
    )
