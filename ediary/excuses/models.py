"""An excuse request: which absences (past lessons, or whole days announced ahead), why, the
parent's note, and the form tutor's decision. Audited: every request and decision is history."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow
from ediary.enums import enum_column


class ExcuseStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExcuseRequest(Audited, Base):
    __tablename__ = "excuse_requests"
    # The note's file name on disk is random; its place and type are not worth a history line.
    __audit_ignored__ = frozenset({"note_file"})

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExcuseStatus] = mapped_column(
        enum_column(ExcuseStatus), default=ExcuseStatus.PENDING, index=True
    )
    first_date: Mapped[dt.date] = mapped_column(Date)
    last_date: Mapped[dt.date] = mapped_column(Date)
    # A photo of a paper note: a random name under EXCUSE_NOTES_DIR (never the child's name).
    note_file: Mapped[str | None] = mapped_column(String(64))
    note_type: Mapped[str | None] = mapped_column(String(40))
    note_size: Mapped[int | None] = mapped_column(Integer)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))

    items: Mapped[list[ExcuseItem]] = relationship(
        back_populates="request", order_by="(ExcuseItem.date, ExcuseItem.id)", lazy="selectin"
    )


class ExcuseItem(Audited, Base):
    """One absence asked to be excused: a recorded lesson, or a whole day announced ahead."""

    __tablename__ = "excuse_items"
    __table_args__ = (UniqueConstraint("request_id", "lesson_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("excuse_requests.id"), index=True)
    # A lesson already recorded as an absence; None for a day announced ahead (all its lessons).
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)

    request: Mapped[ExcuseRequest] = relationship(back_populates="items")
