"""Read-only questions about the journal's extent."""

from __future__ import annotations

from sqlalchemy import func, select

from ediary.db import db
from ediary.journal.models import JournalEvent


def journal_head() -> int:
    """The newest event id. A page reads it BEFORE its own queries and hands it to live.js:
    every event after it is then replayed, none before it is missed (docs/protocol.md)."""
    return db.session.scalar(select(func.max(JournalEvent.id))) or 0


def oldest_kept_id() -> int | None:
    """The oldest event still kept; a client whose last id is older than the one before it gets
    "reload" (`retention` prunes a prefix of ids, so nothing below this id remains)."""
    return db.session.scalar(select(func.min(JournalEvent.id)))
