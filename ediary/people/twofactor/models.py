"""A person's authenticator (TOTP secret) and their single-use recovery codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow


class Authenticator(Audited, Base):
    """The TOTP secret of one account. `confirmed_at` is set once the person typed a code from
    their app: until then the secret is only offered (enrolment). `last_step` is the 30-second
    step of the last accepted code: a code is accepted once (RFC 6238 §5.2)."""

    __tablename__ = "authenticators"
    __audit_redacted__ = frozenset({"secret"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[dt.datetime | None]
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Audited, Base):
    """One of the ten codes for a lost phone: only its hash is kept; it works once."""

    __tablename__ = "recovery_codes"
    __audit_redacted__ = frozenset({"code_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(80), unique=True)
    used_at: Mapped[dt.datetime | None]
