"""The form tutor's page "Moja klasa" (issue 15, item 6): the tutor of the class and the
school's administrator see it; anyone else (another teacher, the office, a parent, an id that
does not exist) gets the same 404."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.excuses.models import ExcuseRequest, ExcuseStatus
from ediary.ids import id_arg
from ediary.people.models import User
from ediary.schools.models import SchoolClass, Term
from ediary.schools.queries import current_term, school_today
from ediary.tutor.queries import class_report
from ediary.web.auth import login_required

bp = Blueprint("tutor", __name__)


def my_classes(user: User) -> list[SchoolClass]:
    """The classes whose form tutor the person is (the start page links to each)."""
    if not user.is_authenticated:
        return []
    query = select(SchoolClass).where(SchoolClass.form_tutor_id == user.id)
    return list(db.session.scalars(query.order_by(SchoolClass.name)))


bp.add_app_template_global(my_classes, "tutor_classes")


@bp.app_template_global()
def can_open_tutor_page(school_class: SchoolClass) -> bool:
    """The class page's link here (for the school's administrator)."""
    return bool(current_user.is_authenticated) and roles.can_manage_class(
        current_user, school_class
    )


def load_class(user: User, class_id: int) -> SchoolClass:
    found = db.session.get(SchoolClass, class_id)
    if found is None or not roles.can_manage_class(user, found):
        raise NotFound()
    return found


def _term(school_class: SchoolClass) -> tuple[Term, list[Term]]:
    """`?term=<id>` among the class's year; none: today's. Any other id is a missing page."""
    query = select(Term).where(Term.year_id == school_class.year_id).order_by(Term.number)
    terms = list(db.session.scalars(query))
    if not terms:
        raise NotFound()
    wanted = id_arg("term")
    if wanted is None:
        return current_term(terms, school_today(school_class.school)), terms
    for term in terms:
        if term.id == wanted:
            return term, terms
    raise NotFound()


@bp.get("/tutor/classes/<int:class_id>")
@login_required
def my_class(class_id: int) -> ResponseReturnValue:
    school_class = load_class(current_user, class_id)
    term, terms = _term(school_class)
    report = class_report(school_class, term, school_today(school_class.school))
    pending = select(func.count()).where(
        ExcuseRequest.class_id == school_class.id, ExcuseRequest.status == ExcuseStatus.PENDING
    )
    return render_template(
        "tutor/class.html",
        report=report,
        pending=db.session.scalar(pending) or 0,
        terms=terms,
        is_tutor=roles.is_form_tutor(current_user, school_class),
    )
