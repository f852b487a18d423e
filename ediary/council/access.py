"""Loaders of the council's pages: the object if the person may use it, else 404.

- opinions: a teacher of the class (an assignment of the class or of a group of it);
- the behaviour page and the class's sheet: the class's form tutor and the school's director;
- the whole school's sheet: its director.
A class of another school, of a class the person has nothing to do with, or an id that does not
exist are all the same 404.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.ids import id_arg
from ediary.people.models import Role, User
from ediary.schools.models import Pupil, SchoolClass, SchoolYear, Term
from ediary.schools.queries import current_term, school_today, year_of


def load_taught_class(user: User, class_id: int) -> SchoolClass:
    found = db.session.get(SchoolClass, class_id)
    if (
        found is None
        or not roles.has_school_role(user, found.school_id, Role.TEACHER)
        or not roles.teaches_class(user, found.id)
    ):
        raise NotFound()
    return found


def load_tutored_class(user: User, class_id: int) -> SchoolClass:
    """The form tutor's own class, or any class of the director's school."""
    found = db.session.get(SchoolClass, class_id)
    if found is None or not roles.can_manage_class(user, found):
        raise NotFound()
    return found


def load_class_pupil(school_class: SchoolClass, pupil_id: int | None) -> Pupil:
    """A pupil of the class the form names (the class was loaded for the person first)."""
    found = db.session.get(Pupil, pupil_id) if pupil_id is not None else None
    if found is None or found.class_id != school_class.id or not found.active:
        raise NotFound()
    return found


def terms_of_year(year_id: int) -> list[Term]:
    query = select(Term).where(Term.year_id == year_id).order_by(Term.number)
    return list(db.session.scalars(query))


def chosen_term(terms: list[Term], wanted: int | None, today: dt.date) -> Term:
    """`wanted` among `terms`; None: the term of today. Any other id is a missing page."""
    if not terms:
        raise NotFound()
    if wanted is None:
        return current_term(terms, today)
    for term in terms:
        if term.id == wanted:
            return term
    raise NotFound()


def class_term(school_class: SchoolClass, wanted: int | None = None) -> tuple[Term, list[Term]]:
    """`?term=<id>` (or the form's `term`) among the class's year; none: today's term."""
    terms = terms_of_year(school_class.year_id)
    wanted = wanted if wanted is not None else id_arg("term")
    return chosen_term(terms, wanted, school_today(school_class.school)), terms


def school_year_terms(school_id: int, today: dt.date) -> tuple[SchoolYear, list[Term]]:
    year = year_of(school_id, today)
    if year is None:
        raise NotFound()
    return year, terms_of_year(year.id)
