"""Helpers of the contacts tests: addresses already proved, and the proofs that were queued."""

from __future__ import annotations

import re

from sqlalchemy import select

from ediary.audit.recording import Actor
from ediary.contacts.models import ContactKind
from ediary.contacts.operations import record_trusted_contact
from ediary.db import db
from ediary.notifications.models import Channel, MessageKind, OutgoingMessage
from ediary.people.models import User


def verified_contacts(user: User, email: str | None = None, phone: str | None = None) -> User:
    """`user` with these addresses on file and proved (as the migration marks existing ones)."""
    if email:
        record_trusted_contact(Actor.system(), user, ContactKind.EMAIL, email)
    if phone:
        record_trusted_contact(Actor.system(), user, ContactKind.PHONE, phone)
    return user


def proofs(user: User, channel: Channel) -> list[OutgoingMessage]:
    return list(
        db.session.scalars(
            select(OutgoingMessage)
            .where(
                OutgoingMessage.user_id == user.id,
                OutgoingMessage.kind == MessageKind.VERIFY,
                OutgoingMessage.channel == channel,
            )
            .order_by(OutgoingMessage.id)
        )
    )


def code_in(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", text)
    assert found is not None, text
    return found.group(1)


def link_path_in(text: str) -> str:
    found = re.search(r"https?://\S+/contacts/confirm/\S+", text)
    assert found is not None, text
    return "/" + found.group(0).split("/", 3)[3]
