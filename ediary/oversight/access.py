"""Loaders for the director's oversight: the school's administrator (dyrektor) only, else 404,
so that another school's director cannot even tell the school exists."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.people.models import User
from ediary.schools.access import load_directed_school
from ediary.schools.models import School

load_school = load_directed_school  # the director's school: one loader (ediary/schools/access.py)


def load_school_figures(user: User, school_id: int) -> tuple[School, bool]:
    """The school for its figures, and whether names may be shown: its director sees names; its
    district's administrator sees counts only; anyone else, 404."""
    school = db.session.get(School, school_id)
    if school is None:
        raise NotFound()
    if roles.is_school_admin(user, school.id):
        return school, True
    if roles.is_district_admin(user, school.district_id):
        return school, False
    raise NotFound()
