"""Accounts and roles: created, granted, disabled, passwords set. Each takes the actor.

Those that change what a person may see or end their sessions declare it
(`ediary.access.revocation`): their open sockets are rescoped or ended after the commit.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.access.revocation import access_changed, sessions_ended
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Refusal
from ediary.people.models import Membership, Role, User
from ediary.people.passwords import hash_password
from ediary.people.throttle import forget_failures

MIN_PASSWORD = 12
MAX_PASSWORD = 128


def check_password_policy(password: str) -> None:
    """Length-based policy (ASVS 6.2): no composition rules; breached lists come with parents."""
    if len(password) < MIN_PASSWORD:
        raise Refusal(
            "password_short", _l("Hasło musi mieć co najmniej %(n)s znaków.", n=MIN_PASSWORD)
        )
    if len(password) > MAX_PASSWORD:
        raise Refusal("password_long", _l("Hasło może mieć najwyżej %(n)s znaków.", n=MAX_PASSWORD))


@operation
def create_user(
    actor: Actor,
    *,
    login: str,
    first_name: str,
    last_name: str,
    password: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> User:
    login = login.strip().lower()
    if not login or len(login) > 80:
        raise Refusal("login_invalid", _l("Nieprawidłowy login."))
    if db.session.scalar(select(User.id).where(User.login == login)) is not None:
        raise Refusal("login_taken", _l("Ten login jest już zajęty."))
    if password is not None:
        check_password_policy(password)
    user = User(
        login=login,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        phone=phone,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.session.add(user)
    return user


@operation
def grant_role(
    actor: Actor,
    user: User,
    role: Role,
    *,
    school_id: int | None = None,
    district_id: int | None = None,
) -> Membership:
    if (role is Role.DISTRICT_ADMIN) != (district_id is not None) or (
        role is not Role.DISTRICT_ADMIN and school_id is None
    ):
        raise Refusal("role_scope", _l("Rola szkolna wymaga szkoły, rola gminna wymaga gminy."))
    held = _held(user, role, school_id, district_id)
    if held is not None:
        return held
    membership = Membership(user=user, role=role, school_id=school_id, district_id=district_id)
    db.session.add(membership)
    access_changed(user.id)
    return membership


@operation
def revoke_role(
    actor: Actor,
    user: User,
    role: Role,
    *,
    school_id: int | None = None,
    district_id: int | None = None,
) -> bool:
    """Takes a role away (the history keeps that it was held); False if it was not held."""
    membership = _held(user, role, school_id, district_id)
    if membership is None:
        return False
    user.memberships.remove(membership)  # the role checks read this list
    db.session.delete(membership)
    access_changed(user.id)
    return True


def _held(
    user: User, role: Role, school_id: int | None, district_id: int | None
) -> Membership | None:
    wanted = (role, school_id, district_id)
    return next(
        (m for m in user.memberships if (m.role, m.school_id, m.district_id) == wanted), None
    )


@operation
def set_password(actor: Actor, user: User, password: str) -> User:
    """A new password ends every existing session of the account."""
    check_password_policy(password)
    return store_password_hash(actor, user, hash_password(password))


@operation
def store_password_hash(actor: Actor, user: User, password_hash: str) -> User:
    """For callers whose transaction writes before the password is set: they hash first.

    A hash takes ~200 ms; a write lock held meanwhile would stall every other writer (on SQLite
    under gevent, the whole process)."""
    user.password_hash = password_hash
    user.session_version += 1
    sessions_ended(user)
    forget_failures(user.login)  # a new password opens the login lanes a stranger shut
    return user


@operation
def end_sessions(actor: Actor, user: User) -> User:
    """Logout everywhere: sessions carrying the old version are refused from now on."""
    user.session_version += 1
    sessions_ended(user)
    return user


@operation
def disable_user(actor: Actor, user: User) -> User:
    user.active = False
    user.session_version += 1
    sessions_ended(user)
    return user
