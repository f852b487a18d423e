"""Where the office's people land after login: a secretary's start page is the office."""

from __future__ import annotations

from flask import url_for

from ediary.people.models import Role, User


def office_start(user: User) -> str | None:
    """The office of the one school where `user` is a secretary (and nothing but office staff:
    a secretary who also teaches keeps the staff home page, which links to the office), else
    None (every other role keeps its own start page)."""
    schools = {m.school_id for m in user.memberships if m.role is Role.SECRETARY}
    others = [m for m in user.memberships if m.role not in (Role.SECRETARY, Role.SCHOOL_ADMIN)]
    if len(schools) != 1 or others:
        return None
    (school_id,) = schools
    return url_for("office.start", school_id=school_id) if school_id is not None else None
