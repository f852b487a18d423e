"""Delivery after commit, for every code path that commits: no caller has to remember it.

Session events collect the journal rows a transaction adds (and the revocations it makes, see
`revocation.detect`); after COMMIT they ring the relay (`relay.py`): the relay of this process
when it runs one (a server process), and every server process through Redis. Nothing is rung on
rollback, and a row of a rolled-back savepoint is left out.

The doorbell carries no events. Each server process reads the journal itself, in id order, from
the last id it has dispatched: the journal is the source of truth (DESIGN.md), Redis only makes
it fast. That works only if ids become visible in id order, so no reader ever sees id 11 before
id 10 commits and skips 10 for good. SQLite gives that for free (one writer at a time). On
PostgreSQL a sequence hands out ids in insert order, not commit order, so every writing
transaction takes one transaction-scoped advisory lock at its first flush and holds it until it
ends: writers commit one after another, which is also what makes "the newest id a client
applied" a safe resume point.

The lock is taken at the first flush that writes a diary record (an `Audited` row) or a journal
row, not at the very first write of the transaction: a kiosk submission writes its idempotency
key first and then reads for a while, and holding the lock through those reads would serialise
the reads of a whole lesson start too, not only its writes. Audited rows are always written
under the lock, so two diary writers cannot each hold a row the other needs while waiting for
the lock; a rare cycle through non-audited rows would be broken by PostgreSQL's deadlock
detector, and the kiosk retries (ediary/kiosks/sockets.py).

Everything that runs inside a writing flush (history rows, other `after_flush` listeners) runs
under the lock too, so it must stay cheap: it is paid once per write of the whole server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from ediary.audit.recording import Audited
from ediary.journal.models import JournalEvent
from ediary.realtime import revocation
from ediary.realtime.revocation import Control

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key: the first 8 bytes of sha256("ediary.journal"), as a signed bigint.
JOURNAL_LOCK_KEY = 2361770376309191142
_KEY = "ediary.realtime.outbox"


@dataclass
class Outbox:
    """What one transaction has to announce once it commits."""

    rows: list[JournalEvent] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    tail: int = 0  # the newest journal id when a revocation was flushed
    locked: bool = False


def _outbox(session: Session) -> Outbox:
    outbox = session.info.get(_KEY)
    if outbox is None:
        outbox = session.info[_KEY] = Outbox()
    return outbox


def _writes_records(session: Session) -> bool:
    """Does this flush write a diary record (an audited row) or a journal event?"""

    def record(obj: object) -> bool:
        return isinstance(obj, Audited | JournalEvent)

    return any(record(obj) for obj in (*session.new, *session.deleted)) or any(
        record(obj) and session.is_modified(obj) for obj in session.dirty
    )


@event.listens_for(Session, "before_flush")
def _serialise_writers(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    outbox = _outbox(session)
    if outbox.locked or not _writes_records(session):
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": JOURNAL_LOCK_KEY})
    outbox.locked = True


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _ctx: UOWTransaction) -> None:
    outbox = _outbox(session)
    outbox.rows.extend(obj for obj in session.new if isinstance(obj, JournalEvent))
    controls = revocation.detect(session)
    if controls:
        outbox.controls.extend(controls)
        # Under the writers' lock: every event up to this id committed before this revocation.
        newest = session.connection().scalar(select(func.max(JournalEvent.id)))
        outbox.tail = max(outbox.tail, newest or 0)


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    outbox: Outbox | None = session.info.pop(_KEY, None)
    if outbox is None:
        return
    # A row added in a savepoint that was rolled back is transient again: it never happened.
    ids = [row.id for row in outbox.rows if inspect(row).persistent]
    if not ids and not outbox.controls:
        return
    newest = max([outbox.tail, *ids])
    controls = [c.placed_after(newest) for c in outbox.controls]
    try:
        ring(newest if ids else None, controls)
    except Exception:  # the commit stands; the relays' poll delivers within a second
        log.exception("could not announce committed journal events")


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)


def ring(newest_id: int | None, controls: list[Control]) -> None:
    """Tells the relays that events up to `newest_id` are committed, and what was revoked."""
    from ediary.realtime.doorbell import publish_external
    from ediary.realtime.relay import local_relay

    relay = local_relay()
    if relay is not None:
        relay.notify(newest_id, controls)
        return
    url = current_app.config.get("REDIS_URL") if has_app_context() else None
    if url:
        # A process without sockets of its own (the CLI, a test, a worker): ring the servers.
        publish_external(url, newest_id, controls)
