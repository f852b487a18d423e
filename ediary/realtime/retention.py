"""Journal retention: pruning events older than `JOURNAL_RETENTION_DAYS`.

Maintenance, not a diary write: the journal is a delivery log (the diary rows and their history
keep the record), so this is a plain function, not an `@operation`, and the ORM's append-only
guard (`refuse_change`, per-row mapper events) is bypassed on purpose with a bulk DELETE.

It deletes a *prefix* of ids (every id up to the newest one older than the cutoff), never by
timestamp alone: clocks of several hosts may disagree slightly, and a hole in the middle of the
kept range would let a resuming client skip an event silently instead of getting "reload". The
newest row is always kept, so SQLite (whose ids are max+1) never reuses an id a client holds.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from ediary.db import db, utcnow
from ediary.journal.models import JournalEvent


def prune_journal(days: int, now: dt.datetime | None = None) -> int:
    """Deletes events older than `days` days; returns how many. The caller commits."""
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    newest = db.session.scalar(select(func.max(JournalEvent.id)))
    if newest is None:
        return 0
    boundary = db.session.scalar(
        select(func.max(JournalEvent.id)).where(JournalEvent.at < cutoff, JournalEvent.id < newest)
    )
    if boundary is None:
        return 0
    # A bulk DELETE runs no per-row mapper events, so the append-only guard stays for all else.
    result = db.session.execute(
        delete(JournalEvent).where(JournalEvent.id <= boundary),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)
