"""Whose contacts a person may change (404 for anyone else's, house rule 4)."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.people.models import Role, User
from ediary.schools.models import Guardianship


def office_schools(user: User) -> set[int]:
    """The schools whose register `user` keeps (secretary or school administrator)."""
    return {
        m.school_id
        for m in user.memberships
        if m.role in (Role.SECRETARY, Role.SCHOOL_ADMIN) and m.school_id is not None
    }


def require_office(user: User) -> set[int]:
    schools = office_schools(user)
    if not schools:
        raise NotFound()
    return schools


def load_guardian_for_office(user: User, guardian_id: int) -> User:
    """A guardian of a pupil of a school whose register `user` keeps; else 404 (a foreign
    school's guardian looks like nobody)."""
    schools = require_office(user)
    guardian = db.session.get(User, guardian_id)
    if guardian is None:
        raise NotFound()
    linked = db.session.scalar(
        select(Guardianship.id)
        .where(Guardianship.user_id == guardian.id, Guardianship.school_id.in_(schools))
        .limit(1)
    )
    if linked is None or not any(roles.manages_register(user, s) for s in schools):
        raise NotFound()
    return guardian


def require_guardian(user: User) -> User:
    """The portal's contacts page is a guardian's own: staff without children find nothing."""
    linked = db.session.scalar(
        select(Guardianship.id).where(Guardianship.user_id == user.id).limit(1)
    )
    if linked is None:
        raise NotFound()
    return user
