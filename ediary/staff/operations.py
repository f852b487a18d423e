"""The staff console's operations: accounts of a school's staff, their roles, leavers, new
activation letters. Each takes the actor, refuses in Polish, flushes and never commits.

A district administrator may do the same for secretaries and school administrators of its
gmina's schools (issue 16 item 4); the loaders (access.py) keep each to its own schools, and
the operations refuse a role the actor may not give.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ediary.access.revocation import sessions_ended
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Refusal
from ediary.people.activation.letters import Letter, LetterRequest, issue_letters
from ediary.people.models import Membership, Role, User
from ediary.people.operations import create_user, disable_user, grant_role, revoke_role
from ediary.schools.models import School
from ediary.staff.access import SCHOOL_ROLES, manageable_roles


def _allowed(actor: Actor, school: School) -> tuple[Role, ...]:
    return manageable_roles(actor.user, school) if actor.user is not None else SCHOOL_ROLES


def _admins_left(school: School, without: int) -> int:
    """Active school administrators of the school other than `without`."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.school_id == school.id,
                Membership.role == Role.SCHOOL_ADMIN,
                Membership.user_id != without,
                User.active.is_(True),
            )
        )
        or 0
    )


@operation
def create_staff_account(
    actor: Actor,
    school: School,
    *,
    login: str,
    first_name: str,
    last_name: str,
    roles: Iterable[Role],
    email: str | None = None,
) -> User:
    """A new account without a password: the person sets theirs with the activation letter."""
    wanted = set(roles)
    if not wanted:
        raise Refusal("no_role", _l("Wybierz co najmniej jedną rolę."))
    if not wanted <= set(_allowed(actor, school)):
        raise Refusal("role_not_yours", _l("Nie możesz nadać tej roli."))
    if not first_name.strip() or not last_name.strip():
        raise Refusal("name_missing", _l("Podaj imię i nazwisko."))
    user = create_user(
        actor, login=login, first_name=first_name, last_name=last_name, email=email or None
    )
    db.session.flush()
    for role in sorted(wanted):
        grant_role(actor, user, role, school_id=school.id)
    return user


@operation
def set_staff_roles(actor: Actor, school: School, member: User, wanted: Iterable[Role]) -> bool:
    """Gives and takes the roles the actor manages so that `member` holds `wanted` of them.

    Refuses to leave the school without an active administrator, and refuses an administrator
    taking their own administrator role (they would lock themselves out of this page)."""
    allowed = set(_allowed(actor, school))
    wanted_set = set(wanted)
    if not wanted_set <= allowed:
        raise Refusal("role_not_yours", _l("Nie możesz nadać tej roli."))
    held = {m.role for m in member.memberships if m.school_id == school.id}
    taken, given = (held & allowed) - wanted_set, wanted_set - held
    if Role.SCHOOL_ADMIN in taken:
        if actor.user_id == member.id:
            raise Refusal(
                "self_lockout",
                _l("Nie możesz odebrać sobie roli administratora: poproś innego administratora."),
            )
        if _admins_left(school, member.id) == 0:
            raise Refusal(
                "last_admin",
                _l("To ostatni administrator szkoły: najpierw nadaj tę rolę komuś innemu."),
            )
    if taken and not (held - taken) and not given:
        raise Refusal(
            "no_role_left",
            _l("Osoba musi mieć w szkole co najmniej jedną rolę. Odchodzi? Wyłącz konto."),
        )
    for role in sorted(given):
        grant_role(actor, member, role, school_id=school.id)
    for role in sorted(taken):
        revoke_role(actor, member, role, school_id=school.id)
    return bool(taken or given)


@operation
def disable_staff(actor: Actor, school: School, member: User) -> User:
    """A leaver: every web and kiosk session ends at once; their entries stay."""
    if actor.user_id == member.id:
        raise Refusal("self_disable", _l("Nie możesz wyłączyć własnego konta."))
    admin_here = any(
        m.role is Role.SCHOOL_ADMIN and m.school_id == school.id for m in member.memberships
    )
    if admin_here and _admins_left(school, member.id) == 0:
        raise Refusal(
            "last_admin",
            _l("To ostatni administrator szkoły: najpierw nadaj tę rolę komuś innemu."),
        )
    if not member.active:
        return member  # twice is harmless
    return disable_user(actor, member)


@operation
def reset_staff_password(actor: Actor, school: School, member: User) -> Letter:
    """A forgotten password: the old one stops working, every session ends, a new letter."""
    if not member.active:
        raise Refusal("disabled", _l("To konto jest wyłączone."))
    member.password_hash = None
    member.session_version += 1
    sessions_ended(member)
    [letter] = issue_letters(actor, [LetterRequest(member, school)])
    return letter


@operation
def staff_letter(actor: Actor, school: School, member: User) -> Letter:
    """A new activation letter for an account not yet activated (the first one went astray)."""
    if not member.active:
        raise Refusal("disabled", _l("To konto jest wyłączone."))
    [letter] = issue_letters(actor, [LetterRequest(member, school)])
    return letter
