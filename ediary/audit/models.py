"""The append-only history of changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ediary.db import Base, BigIntPK, utcnow


class AppendOnly(RuntimeError):
    """History and journal rows are never changed or deleted."""


class HistoryEntry(Base):
    __tablename__ = "history"
    __table_args__ = (Index("ix_history_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(12))
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(8))
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def refuse_change(model: type[Base]) -> None:
    def _refuse(_mapper: Any, _connection: Any, target: Any) -> None:
        raise AppendOnly(f"{type(target).__name__} rows are append-only")

    event.listen(model, "before_update", _refuse)
    event.listen(model, "before_delete", _refuse)


refuse_change(HistoryEntry)
