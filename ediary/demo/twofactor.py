"""Two-factor login in the demo: every demo account whose role requires it (directors,
secretaries, gmina administrators) is enrolled with one public TOTP key, printed by `ediary demo`
and in the README, so a visitor adds it to any authenticator app (or computes the code with
pyotp) and logs in as on a real server. Like the demo password it is public on purpose: demo
accounts log in only in demo mode. Teachers may switch it on themselves, as anywhere.
"""

from __future__ import annotations

import datetime as dt

import pyotp
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db, utcnow
from ediary.people.models import Membership, User
from ediary.people.twofactor.models import Authenticator
from ediary.people.twofactor.operations import REQUIRED_ROLES

DEMO_TOTP_SECRET = "EDIARYDEMODZIENNIKMIRZECWACHOCKA"  # noqa: S105 - public on purpose


def demo_code(at: dt.datetime | None = None) -> str:
    """The demo key's code now (what an authenticator app shows)."""
    return pyotp.TOTP(DEMO_TOTP_SECRET).at(at or utcnow())


@operation
def enrol_demo_staff(actor: Actor, now: dt.datetime | None = None) -> int:
    """Enrols the demo accounts of required roles that have no authenticator; returns how many."""
    missing = db.session.scalars(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Authenticator, Authenticator.user_id == User.id)
        .where(
            User.is_demo.is_(True),
            Membership.role.in_(REQUIRED_ROLES),
            Authenticator.id.is_(None),
        )
        .distinct()
    ).all()
    at = now or utcnow()
    db.session.add_all(
        Authenticator(user_id=user_id, secret=DEMO_TOTP_SECRET, confirmed_at=at)
        for user_id in missing
    )
    return len(missing)


def enrol_demo(now: dt.datetime | None = None) -> int:
    return enrol_demo_staff(Actor.system(Channel.IMPORT), now)
