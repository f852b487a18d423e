"""Which address of a person receives messages, and what their contacts page shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ScalarSelect, select

from ediary.contacts.models import ContactKind, ContactVerification
from ediary.db import db
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, SchoolClass


def verified_address_of(user_id: Any, kind: ContactKind) -> ScalarSelect[str]:
    """The address of `kind` that `user_id` (a column or a value) proved last: where messages
    go. A newer address waiting for its proof does not replace it until it is proved. "" when
    the address was removed (`operations._remove`): nobody receives."""
    row = ContactVerification
    return (
        select(row.address)
        .where(row.user_id == user_id, row.kind == kind, row.verified_at.is_not(None))
        .order_by(row.verified_at.desc(), row.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def verified_address(user_id: int, kind: ContactKind) -> str | None:
    return db.session.scalar(select(verified_address_of(user_id, kind))) or None


def latest(user_id: int, kind: ContactKind) -> ContactVerification | None:
    """The newest address given for `kind` (verified or not)."""
    row = ContactVerification
    return db.session.scalar(
        select(row).where(row.user_id == user_id, row.kind == kind).order_by(row.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class ContactState:
    """One kind of contact as a page shows it."""

    kind: ContactKind
    verified: str | None  # the address that receives messages now
    pending: ContactVerification | None  # a newer address waiting for its proof


def state_of(user_id: int, kind: ContactKind) -> ContactState:
    newest = latest(user_id, kind)
    pending = newest if newest is not None and newest.verified_at is None else None
    return ContactState(kind, verified_address(user_id, kind), pending)


def states_of(user_id: int) -> dict[str, ContactState]:
    return {kind.value: state_of(user_id, kind) for kind in ContactKind}


def verification_address(user_id: int, payload: dict[str, Any]) -> str | None:
    """Where a queued proof goes: its address, while that is still the newest one given and
    waits for its proof (a proof of an address replaced meanwhile is dropped, not sent)."""
    found = db.session.get(ContactVerification, payload.get("verification_id"))
    if found is None or found.user_id != user_id or found.secret_hash is None:
        return None
    newest = latest(user_id, found.kind)
    if newest is None or newest.id != found.id or found.verified_at is not None:
        return None
    return found.address


def states_for(user_ids: list[int]) -> dict[int, dict[str, ContactState]]:
    """`states_of` for many people in one query (the office's list)."""
    rows = db.session.scalars(
        select(ContactVerification)
        .where(ContactVerification.user_id.in_(user_ids))
        .order_by(ContactVerification.id)
    )
    newest: dict[tuple[int, ContactKind], ContactVerification] = {}
    proved: dict[tuple[int, ContactKind], ContactVerification] = {}
    for row in rows:
        key = (row.user_id, row.kind)
        newest[key] = row
        if row.verified_at is not None:
            best = proved.get(key)
            if best is None or best.verified_at is None or best.verified_at <= row.verified_at:
                proved[key] = row
    states: dict[int, dict[str, ContactState]] = {}
    for user_id in user_ids:
        states[user_id] = {}
        for kind in ContactKind:
            last = newest.get((user_id, kind))
            pending = last if last is not None and last.verified_at is None else None
            verified = proved.get((user_id, kind))
            states[user_id][kind.value] = ContactState(
                kind, verified.address if verified and verified.address else None, pending
            )
    return states


def guardians_of(school_ids: set[int]) -> list[User]:
    """The guardians of the pupils of these schools, by name."""
    linked = select(Guardianship.user_id).where(Guardianship.school_id.in_(school_ids))
    return list(
        db.session.scalars(
            select(User)
            .where(User.id.in_(linked))
            .order_by(User.last_name, User.first_name, User.id)
        )
    )


def children_in(user_ids: list[int], school_ids: set[int]) -> dict[int, list[str]]:
    """Guardian id → "first last (class)" of their children in these schools: whose parent
    the office is looking at (names on the page, never in a URL)."""
    rows = db.session.execute(
        select(Guardianship.user_id, Pupil.first_name, Pupil.last_name, SchoolClass.name)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(Guardianship.user_id.in_(user_ids), Guardianship.school_id.in_(school_ids))
        .order_by(Guardianship.user_id, Pupil.last_name, Pupil.first_name)
    )
    found: dict[int, list[str]] = {}
    for user_id, first, last, class_name in rows:
        found.setdefault(user_id, []).append(f"{first} {last} ({class_name})")
    return found
