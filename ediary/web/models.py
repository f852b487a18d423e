"""Forms sent with a one-time token: the record that makes sending one twice harmless."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary.db import Base, utcnow


class SentForm(Base):
    """A form a person sent, by the token the page gave it, and where its success went.

    Written in the transaction of the form's operation (ediary/web/pages.py), so it exists
    exactly when the operation's effect does: the second sending of the same form (a double
    click, a reload that resends, a retry after a timeout) finds it and goes where the first
    went, without running the operation again. Not `Audited`: it is bookkeeping of requests,
    not a school record, and it is kept a day only.
    """

    __tablename__ = "sent_forms"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    location: Mapped[str] = mapped_column(String(500))
    message: Mapped[str | None] = mapped_column(String(500))
