"""The council's pages: teachers' opinions of behaviour, the form tutor's behaviour grades (and
the director's correction after the council), the council sheet as a print view and a PDF, and
the parents' page of their child's behaviour grades.

Views are thin (house rule 2): parse, load through ediary/council/access.py (404 outside the
person's scope), run one operation through `perform`, which commits once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.audit.recording import Actor
from ediary.classification.calendar import is_locked
from ediary.council.access import (
    chosen_term,
    class_term,
    load_class_pupil,
    load_taught_class,
    load_tutored_class,
    school_year_terms,
)
from ediary.council.models import BEHAVIOUR_NAMES, Behaviour, BehaviourKind
from ediary.council.operations import (
    MAX_OPINION,
    MAX_REASON,
    behaviour_grade,
    correct_behaviour,
    give_opinion,
    set_behaviour,
)
from ediary.council.queries import (
    behaviour_board,
    grades_of_child,
    opinions_by,
    taught_classes,
    taught_pupils,
)
from ediary.council.sheet import build_sheets, sheet_table
from ediary.db import db
from ediary.documents.pdf import pdf_response, render_pdf
from ediary.documents.tables import Format, table_response
from ediary.errors import Refusal
from ediary.excuses.access import load_child
from ediary.gradebook.access import is_teacher, require_teacher
from ediary.ids import id_arg, parse_id
from ediary.people.models import Role, User
from ediary.portal.queries import children_of
from ediary.realtime.queries import journal_head
from ediary.schools.access import load_directed_school
from ediary.schools.models import School, SchoolClass, Term
from ediary.schools.queries import school_today, terms_of
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("council", __name__)


def _(message: str, /, **values: Any) -> str:
    """Flask-Babel's gettext, typed (the library has no annotations)."""
    return str(gettext(message, **values))


def _form_id(name: str) -> int | None:
    """The form's id `name`: None when absent; anything no row can have is a missing page."""
    raw = request.form.get(name, "")
    if not raw:
        return None
    found = parse_id(raw)
    if found is None:
        raise NotFound()
    return found


def _version() -> int | None:
    """The version the page showed: empty when it showed nothing; anything else is refused."""
    raw = request.form.get("version", "")
    if not raw:
        return None
    found = parse_id(raw)
    if found is None:
        raise Refusal("invalid", _("Nieprawidłowe dane formularza. Odśwież stronę."))
    return found


@bp.app_template_global()
def council_links(user: User) -> dict[str, Any]:
    """The start page's links (templates/council/_home_links.html)."""
    if not user.is_authenticated:
        return {}
    tutored = db.session.scalars(
        select(SchoolClass).where(SchoolClass.form_tutor_id == user.id).order_by(SchoolClass.name)
    ).all()
    directed = sorted(
        {m.school_id for m in user.memberships if m.role is Role.SCHOOL_ADMIN and m.school_id}
    )
    return {
        "opinions": is_teacher(user),
        "tutored": list(tutored),
        "schools": [db.session.get_one(School, i) for i in directed],
    }


# --- a teacher's opinions ------------------------------------------------------------------


@bp.get("/council/opinions")
@login_required
def opinion_classes() -> ResponseReturnValue:
    require_teacher(current_user)
    return render_template("council/opinion_classes.html", classes=taught_classes(current_user))


def _opinions_page(
    school_class: SchoolClass,
    term: Term,
    terms: list[Term],
    refusal: Refusal | None = None,
) -> str:
    typed: dict[str, Any] = {}
    if refusal is not None:
        typed = {
            "pupil": _form_id("pupil"),
            "value": request.form.get("value", ""),
            "text": request.form.get("text", ""),
        }
    return render_template(
        "council/opinions.html",
        school_class=school_class,
        term=term,
        terms=terms,
        pupils=taught_pupils(current_user, school_class),
        opinions=opinions_by(current_user, term),
        locked=is_locked(term, school_today(school_class.school)),
        names=BEHAVIOUR_NAMES,
        values=list(Behaviour),
        max_text=MAX_OPINION,
        refusal=refusal,
        typed=typed,
    )


@bp.get("/council/classes/<int:class_id>/opinions")
@login_required
def opinions(class_id: int) -> ResponseReturnValue:
    school_class = load_taught_class(current_user, class_id)
    term, terms = class_term(school_class)
    return _opinions_page(school_class, term, terms)


@bp.post("/council/classes/<int:class_id>/opinions")
@login_required
def save_opinion(class_id: int) -> ResponseReturnValue:
    school_class = load_taught_class(current_user, class_id)
    term, terms = class_term(school_class, _form_id("term"))
    pupil = load_class_pupil(school_class, _form_id("pupil"))
    today = school_today(school_class.school)

    def give(actor: Actor) -> object:
        return give_opinion(
            actor,
            pupil,
            term,
            value=request.form.get("value"),
            text=request.form.get("text", ""),
            base_version=_version(),
            today=today,
        )

    return perform(
        give,
        to=url_for("council.opinions", class_id=school_class.id, term=term.id),
        message=_("Zapisano opinię o zachowaniu: %(name)s.", name=pupil.full_name),
        refused=lambda refusal: _opinions_page(school_class, term, terms, refusal),
    )


# --- the form tutor's behaviour grades -------------------------------------------------------


def _board_page(
    school_class: SchoolClass, term: Term, terms: list[Term], refusal: Refusal | None = None
) -> str:
    typed: dict[str, Any] = {}
    if refusal is not None:
        typed = {
            "pupil": _form_id("pupil"),
            "kind": request.form.get("kind", "final" if request.form.get("reason") else ""),
            "value": request.form.get("value", ""),
            "reason": request.form.get("reason", ""),
        }
    return render_template(
        "council/behaviour.html",
        school_class=school_class,
        term=term,
        terms=terms,
        rows=behaviour_board(school_class, term),
        locked=is_locked(term, school_today(school_class.school)),
        is_tutor=roles.is_form_tutor(current_user, school_class),
        is_director=roles.is_school_admin(current_user, school_class.school_id),
        graded=school_class.grade_level >= 4,
        names=BEHAVIOUR_NAMES,
        values=list(Behaviour),
        max_reason=MAX_REASON,
        refusal=refusal,
        typed=typed,
    )


@bp.get("/council/classes/<int:class_id>/behaviour")
@login_required
def behaviour(class_id: int) -> ResponseReturnValue:
    school_class = load_tutored_class(current_user, class_id)
    term, terms = class_term(school_class)
    return _board_page(school_class, term, terms)


@bp.post("/council/classes/<int:class_id>/behaviour")
@login_required
def save_behaviour(class_id: int) -> ResponseReturnValue:
    school_class = load_tutored_class(current_user, class_id)
    term, terms = class_term(school_class, _form_id("term"))
    pupil = load_class_pupil(school_class, _form_id("pupil"))
    today = school_today(school_class.school)

    def save(actor: Actor) -> object:
        try:
            kind = BehaviourKind(request.form.get("kind", ""))
        except ValueError:
            raise Refusal("invalid", _("Nieprawidłowe dane formularza. Odśwież stronę.")) from None
        return set_behaviour(
            actor,
            pupil,
            term,
            kind=kind,
            value=request.form.get("value"),
            base_version=_version(),
            today=today,
        )

    return perform(
        save,
        to=url_for("council.behaviour", class_id=school_class.id, term=term.id),
        message=_("Zapisano ocenę zachowania: %(name)s.", name=pupil.full_name),
        refused=lambda refusal: _board_page(school_class, term, terms, refusal),
    )


@bp.post("/council/classes/<int:class_id>/behaviour/correction")
@login_required
def correct(class_id: int) -> ResponseReturnValue:
    school_class = load_tutored_class(current_user, class_id)
    term, terms = class_term(school_class, _form_id("term"))
    pupil = load_class_pupil(school_class, _form_id("pupil"))
    today = school_today(school_class.school)

    def fix(actor: Actor) -> object:
        grade = behaviour_grade(pupil, term, BehaviourKind.FINAL)
        if grade is None:
            raise Refusal("not_final", _("Poprawić można tylko ocenę ustaloną."))
        return correct_behaviour(
            actor,
            grade,
            value=request.form.get("value"),
            reason=request.form.get("reason", ""),
            base_version=_version(),
            today=today,
        )

    return perform(
        fix,
        to=url_for("council.behaviour", class_id=school_class.id, term=term.id),
        message=_("Poprawiono ocenę zachowania: %(name)s.", name=pupil.full_name),
        refused=lambda refusal: _board_page(school_class, term, terms, refusal),
    )


# --- the council sheet -------------------------------------------------------------------------


def _class_sheet(class_id: int) -> tuple[SchoolClass, Term, list[Term], Any]:
    school_class = load_tutored_class(current_user, class_id)
    term, terms = class_term(school_class)
    return school_class, term, terms, build_sheets([school_class], term)


@bp.get("/council/classes/<int:class_id>/sheet")
@login_required
def class_sheet(class_id: int) -> ResponseReturnValue:
    school_class, _term, terms, sheet = _class_sheet(class_id)
    return render_template(
        "council/sheet.html", sheet=sheet, terms=terms, school=school_class.school,
        school_class=school_class, pdf=False,
    )  # fmt: skip


@bp.get("/council/classes/<int:class_id>/sheet.pdf")
@login_required
def class_sheet_pdf(class_id: int) -> ResponseReturnValue:
    school_class, term, terms, sheet = _class_sheet(class_id)
    data = render_pdf(
        "council/sheet.html", sheet=sheet, terms=terms, school=school_class.school,
        school_class=school_class,
    )  # fmt: skip
    return pdf_response(data, f"rada-{school_class.name}-okres-{term.number}.pdf")


@bp.get("/council/classes/<int:class_id>/sheet.csv", defaults={"fmt": "csv"})
@bp.get("/council/classes/<int:class_id>/sheet.xlsx", defaults={"fmt": "xlsx"})
@login_required
def class_sheet_table(class_id: int, fmt: Format) -> ResponseReturnValue:
    school_class, term, _terms, sheet = _class_sheet(class_id)
    name = f"rada-{school_class.name}-okres-{term.number}"
    return table_response(sheet_table(sheet, name), fmt, name)


def _school_sheet(school_id: int) -> tuple[School, Term, list[Term], Any]:
    school = load_directed_school(current_user, school_id)
    year, terms = school_year_terms(school.id, school_today(school))
    term = chosen_term(terms, id_arg("term"), school_today(school))
    classes = db.session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id))
    return school, term, terms, build_sheets(classes, term)


@bp.get("/council/schools/<int:school_id>/sheet")
@login_required
def school_sheet(school_id: int) -> ResponseReturnValue:
    school, _term, terms, sheet = _school_sheet(school_id)
    return render_template(
        "council/sheet.html", sheet=sheet, terms=terms, school=school, school_class=None,
        pdf=False,
    )  # fmt: skip


@bp.get("/council/schools/<int:school_id>/sheet.pdf")
@login_required
def school_sheet_pdf(school_id: int) -> ResponseReturnValue:
    school, term, terms, sheet = _school_sheet(school_id)
    data = render_pdf(
        "council/sheet.html", sheet=sheet, terms=terms, school=school, school_class=None
    )
    return pdf_response(data, f"rada-{school.short_name}-okres-{term.number}.pdf")


@bp.get("/council/schools/<int:school_id>/sheet.csv", defaults={"fmt": "csv"})
@bp.get("/council/schools/<int:school_id>/sheet.xlsx", defaults={"fmt": "xlsx"})
@login_required
def school_sheet_table(school_id: int, fmt: Format) -> ResponseReturnValue:
    school, term, _terms, sheet = _school_sheet(school_id)
    name = f"rada-{school.short_name}-okres-{term.number}"
    return table_response(sheet_table(sheet, name), fmt, name)


# --- the parents' page ---------------------------------------------------------------------------


@bp.get("/portal/<int:pupil_id>/behaviour")
@login_required
def child_behaviour(pupil_id: int) -> ResponseReturnValue:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    pupil = load_child(current_user, pupil_id)
    terms = terms_of(pupil)
    if not terms:
        raise NotFound()
    return render_template(
        "council/child.html",
        live_head=head,
        pupil=pupil,
        children=children_of(current_user),
        section="behaviour",
        terms=terms,
        grades=grades_of_child(pupil, terms),
        graded=pupil.school_class.grade_level >= 4,
        kinds=BehaviourKind,
    )
