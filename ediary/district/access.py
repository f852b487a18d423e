"""Loaders for the gmina's pages: the object if the actor administers its district, else 404."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.people.models import User
from ediary.schools.models import School


def load_gmina_school(user: User, school_id: int) -> School:
    """A school of a gmina `user` administers (never a pupil of it: aggregates only)."""
    school = db.session.get(School, school_id)
    if school is None or not roles.is_district_admin(user, school.district_id):
        raise NotFound()
    return school
