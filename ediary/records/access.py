"""Loaders for the school's documentation: its administrator (dyrektor) only, else 404. The
regulation makes the director responsible for the diaries' printouts, exports and archive."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.ids import parse_id
from ediary.people.models import User
from ediary.schools.access import load_directed_school
from ediary.schools.models import Pupil, SchoolClass, SchoolYear, Term

load_school = load_directed_school  # the director's school: one loader (ediary/schools/access.py)


def load_class(user: User, class_id: int) -> SchoolClass:
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None or not roles.is_school_admin(user, school_class.school_id):
        raise NotFound()
    return school_class


def load_year(user: User, school_id: int, year_id: int) -> SchoolYear:
    year = db.session.get(SchoolYear, year_id)
    if year is None or year.school_id != school_id or not roles.is_school_admin(user, school_id):
        raise NotFound()
    return year


def load_pupil(user: User, pupil_id: int) -> Pupil:
    pupil = db.session.get(Pupil, pupil_id)
    if pupil is None or not roles.is_school_admin(user, pupil.school_id):
        raise NotFound()
    return pupil


def load_term(school_class: SchoolClass, raw: str | None) -> Term | None:
    """The `term` query parameter: a term of the class's year, None for the whole year, else 404."""
    if raw is None or raw == "":
        return None
    term_id = parse_id(raw)
    term = db.session.get(Term, term_id) if term_id is not None else None
    if term is None or term.year_id != school_class.year_id:
        raise NotFound()
    return term
