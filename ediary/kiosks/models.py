"""Kiosks: enrolled classroom devices, their one-time enrollment codes, processed submissions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow
from ediary.schools.models import Room


class Kiosk(Audited, Base):
    """The computer in one classroom. The server keeps only a hash of its device secret."""

    __tablename__ = "kiosks"
    __audit_redacted__ = frozenset({"secret_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    secret_hash: Mapped[str | None] = mapped_column(String(255))
    enrolled_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    room: Mapped[Room] = relationship()

    @property
    def enrolled(self) -> bool:
        return self.secret_hash is not None and self.revoked_at is None


class EnrollmentCode(Audited, Base):
    """A short-lived, single-use code a school administrator issues to enroll a room's kiosk."""

    __tablename__ = "enrollment_codes"
    __audit_redacted__ = frozenset({"code_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class ProcessedSubmission(Base):
    """The idempotency store: a kiosk submission's key, a digest of its content, its result.

    Written in the same transaction as the submission's effect; a repeated key returns `result`.
    """

    __tablename__ = "processed_submissions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
