"""One-time activation codes issued by the school (also the school's way to reset a password)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow


class ActivationCode(Audited, Base):
    """Only a hash of the code is kept; a code works once and until it expires.

    A new code for an account replaces every unused older one (the letter that went astray)."""

    __tablename__ = "activation_codes"
    __audit_redacted__ = frozenset({"code_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(80), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)
