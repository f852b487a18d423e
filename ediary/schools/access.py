"""Loaders: return the object if the actor may see it, else 404 (forbidden looks like missing)."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.people.models import User
from ediary.schools.models import District, Pupil, School, SchoolClass


def load_pupil(user: User, pupil_id: int) -> Pupil:
    pupil = db.session.get(Pupil, pupil_id)
    if pupil is None or not roles.can_read_pupil(user, pupil):
        raise NotFound()
    return pupil


def load_class(user: User, class_id: int) -> SchoolClass:
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None or not roles.can_read_class(user, school_class):
        raise NotFound()
    return school_class


def load_school(user: User, school_id: int) -> School:
    """The school's own staff with office duties (secretary, administrator)."""
    school = db.session.get(School, school_id)
    if school is None or not roles.manages_register(user, school.id):
        raise NotFound()
    return school


def load_directed_school(user: User, school_id: int) -> School:
    """The school for its administrator (dyrektor) only: the director's own pages (documentation,
    oversight)."""
    school = db.session.get(School, school_id)
    if school is None or not roles.is_school_admin(user, school.id):
        raise NotFound()
    return school


def load_district(user: User, district_id: int) -> District:
    district = db.session.get(District, district_id)
    if district is None or not roles.is_district_admin(user, district.id):
        raise NotFound()
    return district
