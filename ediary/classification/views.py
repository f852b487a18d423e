"""Classification pages: the subject teacher's sheet (per teaching assignment), a parent's page of
the child's proposed grades with the acknowledgement, and the form tutor's list (a template
global on the tutor's class page). The director's pages are in director_views.py.

The sheet is one plain form: each row has its own "Zapisz" button (the button's value names the
row, only that row is saved) and the page has "Zapisz wszystko". Each cell carries the id and
version of the grade the page showed: a stale page is a conflict (409), the page comes back with
what the person typed and, next to each conflicting cell, what the server has now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.classification.operations import (
    Cell,
    SheetSaved,
    acknowledge_proposals,
    kinds_of,
    save_sheet,
)
from ediary.classification.queries import (
    build_sheet,
    calendar_of,
    child_proposals,
    class_acknowledgements,
)
from ediary.classification.values import MAX_DESCRIPTIVE, VALUE_NAMES, VALUES
from ediary.db import db
from ediary.diary.models import GradeKind
from ediary.errors import Refusal
from ediary.excuses.access import load_child
from ediary.gradebook.access import load_assignment
from ediary.ids import id_arg, parse_id
from ediary.portal.queries import children_of
from ediary.realtime.queries import journal_head
from ediary.schools.models import ClassGroup, Pupil, School, SchoolClass, Subject, Term
from ediary.schools.queries import current_term, school_today, terms_of
from ediary.timetable.models import TeachingAssignment
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("classification", __name__)

SHEET = "/classification/<int:class_id>/<int:subject_id>"


def _terms(year_id: int) -> list[Term]:
    query = select(Term).where(Term.year_id == year_id).order_by(Term.number)
    return list(db.session.scalars(query))


def _term(terms: list[Term], today_term: Term | None, wanted: int | None) -> Term:
    """`?term=<id>` (or the form's `term`) among these terms; none: today's; else 404."""
    if wanted is None and today_term is not None:
        return today_term
    for term in terms:
        if term.id == wanted:
            return term
    raise NotFound()


def sheet_url(assignment: TeachingAssignment, **args: Any) -> str:
    return url_for(
        "classification.sheet",
        class_id=assignment.class_id,
        subject_id=assignment.subject_id,
        group=assignment.group_id,
        **args,
    )


bp.add_app_template_global(sheet_url, "classification_url")


@bp.app_template_global()
def proposals_due(assignment: TeachingAssignment) -> dt.date | None:
    """The next proposal deadline of the assignment's current term (the start page shows it
    next to the classification link); None without a council date or when both have passed."""
    school_class = db.session.get_one(SchoolClass, assignment.class_id)
    terms = _terms(school_class.year_id)
    if not terms:
        return None
    today = school_today(db.session.get_one(School, assignment.school_id))
    calendar = calendar_of(current_term(terms, today), today)
    ahead = [d for d in (calendar.failing_deadline, calendar.other_deadline) if d and d >= today]
    return min(ahead, default=None)


def _sheet_page(
    assignment: TeachingAssignment,
    term: Term,
    *,
    typed: dict[str, str] | None = None,
    refusal: Refusal | None = None,
) -> str:
    school_class = db.session.get_one(SchoolClass, assignment.class_id)
    school = db.session.get_one(School, assignment.school_id)
    today = school_today(school)
    group = db.session.get(ClassGroup, assignment.group_id) if assignment.group_id else None
    return render_template(
        "classification/sheet.html",
        sheet=build_sheet(assignment, term, school, today),
        school_class=school_class,
        subject=db.session.get_one(Subject, assignment.subject_id),
        group=group,
        terms=_terms(school_class.year_id),
        typed=typed,
        refusal=refusal,
        problems=(refusal.details.get("cells", {}) if refusal is not None else {}),
        values=VALUES,
        value_names=VALUE_NAMES,
        max_descriptive=MAX_DESCRIPTIVE,
        today=today,
    )


def _assignment(class_id: int, subject_id: int) -> TeachingAssignment:
    return load_assignment(current_user, class_id, subject_id, id_arg("group"))


def _assignment_term(assignment: TeachingAssignment, wanted: int | None) -> Term:
    school_class = db.session.get_one(SchoolClass, assignment.class_id)
    terms = _terms(school_class.year_id)
    if not terms:
        raise NotFound()
    today = school_today(db.session.get_one(School, assignment.school_id))
    return _term(terms, current_term(terms, today), wanted)


def _form_term() -> int | None:
    """The form's `term`: absent, today's; anything but an id, a missing page (0 is none)."""
    raw = request.form.get("term")
    if raw is None:
        return None
    return parse_id(raw) or 0


@bp.get(SHEET)
@login_required
def sheet(class_id: int, subject_id: int) -> ResponseReturnValue:
    assignment = _assignment(class_id, subject_id)
    return _sheet_page(assignment, _assignment_term(assignment, id_arg("term")))


def _cells(assignment: TeachingAssignment, term: Term) -> tuple[list[Cell], dict[str, str]]:
    """The cells the form sends: one row (`row=<pupil id>`) or every row of the page."""
    only = parse_id(request.form.get("row", "")) if request.form.get("row") else None
    proposed_kind, final_kind = kinds_of(term)
    pupils = {
        p.id: p
        for p in db.session.scalars(
            select(Pupil).where(Pupil.class_id == assignment.class_id, Pupil.active.is_(True))
        )
    }
    cells: list[Cell] = []
    typed: dict[str, str] = {}
    for raw in request.form.getlist("pupil"):
        pupil_id = parse_id(raw)
        pupil = pupils.get(pupil_id) if pupil_id is not None else None
        if pupil is None:
            raise NotFound()  # a pupil of another class: the same as a missing one
        for kind in (proposed_kind, final_kind):
            key = f"{kind.value}-{pupil.id}"
            if key not in request.form:
                continue
            text = request.form.get(key, "")
            typed[key] = text
            if only is not None and pupil.id != only:
                continue
            seen_grade, seen_version = (
                request.form.get(f"{key}-grade", ""),
                request.form.get(f"{key}-version", ""),
            )
            cells.append(
                Cell(
                    pupil,
                    kind,
                    text,
                    parse_id(seen_grade) if seen_grade else None,
                    parse_id(seen_version) if seen_version else None,
                )
            )
    if only is not None and only not in {c.pupil.id for c in cells}:
        raise NotFound()
    return cells, typed


@bp.post(SHEET)
@login_required
def save(class_id: int, subject_id: int) -> ResponseReturnValue:
    assignment = _assignment(class_id, subject_id)
    term = _assignment_term(assignment, _form_term())
    cells, typed = _cells(assignment, term)
    school = db.session.get_one(School, assignment.school_id)
    ids = (assignment.id, term.id)

    def refused(refusal: Refusal) -> str:
        again = db.session.get_one(TeachingAssignment, ids[0])  # the rollback expired them
        return _sheet_page(again, db.session.get_one(Term, ids[1]), typed=typed, refusal=refusal)

    def said(saved: SheetSaved) -> str:
        if not saved.changed:
            return str(_("Nic się nie zmieniło."))
        return str(_("Zapisano zmienione oceny: %(num)s.", num=saved.changed))

    def then(saved: SheetSaved) -> None:
        if saved.late:
            names = ", ".join(db.session.get_one(Pupil, g.pupil_id).full_name for g in saved.late)
            flash(
                _(
                    "Uwaga: propozycja wystawiona po terminie ze statutu (zapisana, "
                    "oznaczona jako spóźniona): %(names)s.",
                    names=names,
                ),
                "warning",
            )

    return perform(
        lambda actor: save_sheet(actor, assignment, term, cells, today=school_today(school)),
        to=sheet_url(assignment, term=term.id, _anchor="sheet"),
        message=said,
        refused=refused,
        then=then,
    )


# --- the parents' page ------------------------------------------------------------------------


def _child_page(pupil: Pupil, term_id: int | None, refusal: Refusal | None = None) -> str:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    terms = terms_of(pupil)
    if not terms:
        raise NotFound()
    today = school_today(pupil.school_class.school)
    term = _term(terms, current_term(terms, today), term_id)
    return render_template(
        "classification/child.html",
        live_head=head,
        pupil=pupil,
        children=children_of(current_user),
        section="classification",
        terms=terms,
        term=term,
        page=child_proposals(pupil, term, current_user, today),
        value_names=VALUE_NAMES,
        refusal=refusal,
    )


@bp.get("/portal/<int:pupil_id>/classification")
@login_required
def child(pupil_id: int) -> ResponseReturnValue:
    return _child_page(load_child(current_user, pupil_id), id_arg("term"))


@bp.post("/portal/<int:pupil_id>/classification/acknowledge")
@login_required
def acknowledge(pupil_id: int) -> ResponseReturnValue:
    pupil = load_child(current_user, pupil_id)
    terms = terms_of(pupil)
    if not terms:
        raise NotFound()
    today = school_today(pupil.school_class.school)
    term = _term(terms, current_term(terms, today), _form_term())
    kind = kinds_of(term)[0]
    back = url_for("classification.child", pupil_id=pupil.id, term=term.id)

    term_id = term.id

    def refused(refusal: Refusal) -> str:
        return _child_page(db.session.get_one(Pupil, pupil_id), term_id, refusal)

    return perform(
        lambda actor: acknowledge_proposals(actor, pupil, term, kind),
        to=back,
        message=_("Zapisano: zapoznałeś/zapoznałaś się z ocenami przewidywanymi."),
        refused=refused,
    )


# --- the form tutor's list (on the tutor's class page) ----------------------------------------


@bp.app_template_global()
def proposal_acknowledgements(school_class: SchoolClass, term: Term) -> dict[str, object]:
    return {
        "rows": class_acknowledgements(school_class, term),
        "year": kinds_of(term)[0] is GradeKind.PROPOSED_YEAR,
    }
