"""The demo's contacts: rodzic1 with a proved e-mail and phone (as if from the school's set-up),
and another parent of the same school whose new e-mail waits for its proof, so that the
secretary's "Kontakty opiekunów" shows both states (README, "What to try as the secretary")."""

from __future__ import annotations

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.contacts.models import ContactKind
from ediary.contacts.operations import change_contact, record_trusted_contact
from ediary.db import db
from ediary.demo.now import DEMO_PARENT
from ediary.people.models import User
from ediary.schools.models import Guardianship

IMPORT = Actor.system(Channel.IMPORT)


def seed_contacts() -> None:
    """Needs an app context; the caller commits."""
    parent = db.session.scalar(select(User).where(User.login == DEMO_PARENT))
    if parent is None:
        return  # a scaled-down district without the demo parent
    record_trusted_contact(IMPORT, parent, ContactKind.EMAIL, "izabela.jakubowska@example.test")
    record_trusted_contact(IMPORT, parent, ContactKind.PHONE, "+48601000001")
    school_id = db.session.scalar(
        select(Guardianship.school_id).where(Guardianship.user_id == parent.id).limit(1)
    )
    other = db.session.scalar(
        select(User)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.school_id == school_id, User.id != parent.id)
        .order_by(User.id)
        .limit(1)
    )
    if other is not None:
        change_contact(IMPORT, other, ContactKind.EMAIL, f"{other.login}@example.test")
