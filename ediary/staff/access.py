"""Loaders of the staff console: the object if the person may manage it, else 404."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.people.models import Membership, Role, User
from ediary.schools.models import School, SchoolClass

# What a district administrator manages in the schools of its gmina (issue 16 item 4).
DISTRICT_ROLES = (Role.SECRETARY, Role.SCHOOL_ADMIN)
SCHOOL_ROLES = (Role.TEACHER, Role.SECRETARY, Role.SCHOOL_ADMIN)


def load_class_for_letters(user: User, class_id: int) -> SchoolClass:
    """The school office (secretary, school administrator) prints a class's letters."""
    found = db.session.get(SchoolClass, class_id)
    if found is None or not roles.manages_register(user, found.school_id):
        raise NotFound()
    return found


def manageable_roles(user: User, school: School) -> tuple[Role, ...]:
    """The roles `user` may give and take in `school`: none means the school is not theirs."""
    if roles.is_school_admin(user, school.id):
        return SCHOOL_ROLES
    if roles.is_district_admin(user, school.district_id):
        return DISTRICT_ROLES
    return ()


def load_staff_school(user: User, school_id: int) -> School:
    found = db.session.get(School, school_id)
    if found is None or not manageable_roles(user, found):
        raise NotFound()
    return found


def load_staff_member(user: User, school: School, member_id: int) -> User:
    """A person with a role in the school that `user` manages; for a district administrator
    only those holding an office role there (teachers are the director's)."""
    allowed = manageable_roles(user, school)
    member = db.session.get(User, member_id)
    held = {m.role for m in member.memberships if m.school_id == school.id} if member else set()
    if member is None or not held & set(allowed):
        raise NotFound()
    return member


def staff_of(school: School) -> list[tuple[User, list[Role]]]:
    rows = db.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == school.id)
        .order_by(User.last_name, User.first_name, User.id)
    )
    found: dict[int, tuple[User, list[Role]]] = {}
    for member, role in rows:
        found.setdefault(member.id, (member, []))[1].append(role)
    return list(found.values())
