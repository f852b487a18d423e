"""Kiosks: enrolled classroom devices, their one-time enrollment codes, processed submissions,
teachers' sessions at a kiosk and the failed logins that throttle them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow
from ediary.schools.models import Room, School


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
    # Held by the kiosk once read: SQLAlchemy's identity map keeps objects weakly, and a school
    # read for one check and let go was read again by the next (a submission read it twice).
    school: Mapped[School] = relationship()

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


class KioskTeacherSession(Base):
    """A teacher's day at one kiosk: opened by a full login, locked and reopened by a PIN, and
    ended by a hard logout, a logout for the day, three wrong PINs, or the device's revocation.

    Not `Audited`: its rows are themselves the record of who was logged in where, and the PIN
    failure counter would fill the history with noise. The session token is not stored at all:
    it is an HMAC of the row's id and `nonce` under the server's secret key (auth.py), so the
    same token can be handed out again at every PIN unlock. The PIN is kept as an argon2 hash.
    """

    __tablename__ = "kiosk_teacher_sessions"
    __table_args__ = (Index("ix_kiosk_teacher_sessions_kiosk_teacher", "kiosk_id", "teacher_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    # The school-local date of the full login: the PIN works on this day, and entries made
    # under this session are for this day's lessons.
    day: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Hard logout: at most 12 hours after the full login, and never past the end of `day`.
    expires_at: Mapped[dt.datetime]
    # `User.session_version` at login: a password change or a disabled account ends the session.
    user_version: Mapped[int]
    # Set while the kiosk's screen is locked: reading rosters needs the PIN (or a full login).
    locked_at: Mapped[dt.datetime | None]
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    pin_failures: Mapped[int] = mapped_column(default=0)
    ended_at: Mapped[dt.datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(20))


class KioskStatus(Base):
    """What a kiosk last said of itself (its `heartbeat`, every 30 s) and whether a socket of it
    is connected: one row per kiosk, updated in place, so 94 kiosks beating every 30 s write
    94 rows, not 11,000 a day. Not `Audited`: it is the device's report, not a diary record, and
    the outages it ends are kept in `KioskOutage` (fleet.py reads both)."""

    __tablename__ = "kiosk_statuses"

    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), primary_key=True)
    connected: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[dt.datetime | None]
    connected_at: Mapped[dt.datetime | None]
    agent_version: Mapped[str | None] = mapped_column(String(40))
    # Entries on the kiosk the server has not acknowledged (waiting to be sent), and those it
    # refused (parked: kept on the kiosk, shown to their teacher).
    outbox_depth: Mapped[int] = mapped_column(default=0)
    outbox_parked: Mapped[int] = mapped_column(default=0)
    # The oldest waiting entry's creation, by the server's clock (now less the age it reported).
    oldest_unsent_at: Mapped[dt.datetime | None]
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class KioskOutage(Base):
    """A time the kiosk was away: from its last sign of life to its return (open while away),
    with the entries it had queued when it came back."""

    __tablename__ = "kiosk_outages"
    __table_args__ = (Index("ix_kiosk_outages_kiosk_started", "kiosk_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    queued: Mapped[int | None]
