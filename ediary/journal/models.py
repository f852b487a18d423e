"""The journal: one append-only row per event, written in the transaction of the change it reports.

Delivery over Socket.IO after commit is an optimisation; clients resume from the journal by id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.models import refuse_change
from ediary.db import Base, BigIntPK, utcnow


class JournalEvent(Base):
    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_audience", "audience", "audience_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    type: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    audience: Mapped[str] = mapped_column(String(12))
    audience_id: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    def as_message(self) -> dict[str, Any]:
        """The wire form of an event (see docs/protocol.md)."""
        return wire_form(self.id, self.type, self.at, self.payload)


def wire_form(
    event_id: int, type_: str, at: dt.datetime, payload: dict[str, Any]
) -> dict[str, Any]:
    """An event as clients receive it (see docs/protocol.md), from its row's columns."""
    return {"id": event_id, "type": type_, "at": at.isoformat(), **payload}


refuse_change(JournalEvent)
