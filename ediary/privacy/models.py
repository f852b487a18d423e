"""The log of staff views of a pupil's record: one narrow row per page view.

Not a history row (nothing changed) and not audited: a view is written with one plain INSERT
(`ediary.privacy.views_log.note_view`), so that logging costs a page view as little as possible.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.models import refuse_change
from ediary.db import Base, BigIntPK, utcnow
from ediary.enums import enum_column


class Viewed(enum.StrEnum):
    """What of the record a member of staff opened."""

    CARD = "card"  # the pupil card: grades, attendance, remarks, topics
    HISTORY = "history"  # the history of changes


class RecordView(Base):
    __tablename__ = "record_views"
    __table_args__ = (Index("ix_record_views_pupil", "pupil_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    viewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"))
    what: Mapped[Viewed] = mapped_column(enum_column(Viewed))


refuse_change(RecordView)  # a log the parent trusts is append-only, like the history
