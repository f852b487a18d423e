"""One row per address a person was given: unverified until its owner proves it."""

from __future__ import annotations

import datetime as dt
import enum
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow
from ediary.enums import enum_column


class ContactKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class ContactVerification(Audited, Base):
    """An address of `user` and the proof of it.

    The address notifications go to is the user's most recently verified one of each kind
    (`queries.verified_address`); `User.email` / `User.phone` hold the address on file, which
    may still wait for its proof. `secret_hash` is the hash of the link's nonce or of the SMS
    code (never the secret itself; redacted in the history); it is cleared when the proof is
    used, replaced by a newer address, or spent by too many wrong codes.
    """

    __tablename__ = "contact_verifications"
    __table_args__ = (Index("ix_contact_verifications_user_kind", "user_id", "kind"),)
    __audit_redacted__: ClassVar[frozenset[str]] = frozenset({"secret_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ContactKind] = mapped_column(enum_column(ContactKind))
    address: Mapped[str] = mapped_column(String(254))
    secret_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # Sends of this address's proof in the current day window (resends are throttled).
    sends: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)  # wrong codes since the last send
