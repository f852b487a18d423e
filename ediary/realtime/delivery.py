"""Delivery after commit, for every code path that commits: no caller has to remember it.

A transaction notes the journal rows it flushes and the revocations its operations declared
(`declare`, called by `ediary.access.revocation`); after COMMIT it rings the relay (`relay.py`)
with them: the relay of this process when it runs one (a server process), and every server
process through Redis. This is the one thing that happens after a commit: anything else a commit
must cause is a journal event or a declared control, applied by the relays in journal order, so
that no operation ever emits on Socket.IO itself. Nothing is rung on rollback, and what a
rolled-back savepoint noted is forgotten with it (`TransactionNotes`).

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

The listeners here are installed by `ediary.transactions`, which says in what order and why.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, UOWTransaction

from ediary.audit.recording import Audited, current_actor
from ediary.db import TransactionNotes, db
from ediary.journal.models import JournalEvent
from ediary.realtime.controls import Control
from ediary.realtime.doorbell import publish_external
from ediary.realtime.relay import local_relay

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key: the first 8 bytes of sha256("ediary.journal"), as a signed bigint.
JOURNAL_LOCK_KEY = 2361770376309191142

# What one transaction announces to the relays once it commits.
JOURNAL_ROWS: TransactionNotes[JournalEvent] = TransactionNotes("ediary.delivery.journal_rows")
CONTROLS: TransactionNotes[Control] = TransactionNotes("ediary.delivery.controls")
# The writers' lock is held (noted in the savepoint that took it: a rollback there releases it).
WRITERS_LOCK: TransactionNotes[bool] = TransactionNotes("ediary.delivery.writers_lock")
# The newest journal id when the controls were placed, at the commit.
TAIL: TransactionNotes[int] = TransactionNotes("ediary.delivery.tail")


def declare(*controls: Control) -> None:
    """Adds controls to the operation's transaction: rung to every relay after its commit."""
    current_actor("a revocation")
    CONTROLS.add(db.session(), controls)


def _writes_records(session: Session) -> bool:
    """Does this flush write a diary record (an audited row) or a journal event?"""

    def record(obj: object) -> bool:
        return isinstance(obj, Audited | JournalEvent)

    return any(record(obj) for obj in (*session.new, *session.deleted)) or any(
        record(obj) and session.is_modified(obj) for obj in session.dirty
    )


def _take_writers_lock(session: Session) -> None:
    if WRITERS_LOCK.get(session):
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": JOURNAL_LOCK_KEY})
    WRITERS_LOCK.add(session, [True])


def serialise_writers(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    """`before_flush`: the writers' lock, at the first flush that writes a record."""
    if _writes_records(session):
        _take_writers_lock(session)


def collect_journal_rows(session: Session, _ctx: UOWTransaction) -> None:
    """`after_flush`: the journal rows to announce after commit (with their ids by now)."""
    JOURNAL_ROWS.add(session, (obj for obj in session.new if isinstance(obj, JournalEvent)))


def place_controls(session: Session) -> None:
    """`before_commit`: the declared revocations placed in the journal's order.

    Under the writers' lock, every event up to the newest id has committed before this
    transaction, so "after the newest id" is exact. A transaction that declares without writing
    a record takes the lock here, for the same reason.
    """
    if session.get_nested_transaction() is not None or not CONTROLS.get(session):
        return  # a savepoint's release, or nothing revoked
    _take_writers_lock(session)
    newest = session.connection().scalar(select(func.max(JournalEvent.id)))
    TAIL.add(session, [newest or 0])


def deliver(session: Session) -> None:
    """`after_commit`: rings the relays with the committed events and the revocations."""
    ids = [row.id for row in JOURNAL_ROWS.get(session)]
    controls = list(dict.fromkeys(CONTROLS.get(session)))  # once each, in declaration order
    tail = max(TAIL.get(session), default=0)
    if not ids and not controls:
        return
    newest = max([tail, *ids])
    try:
        ring(newest if ids else None, [c.placed_after(newest) for c in controls])
    except Exception:  # the commit stands; the relays' poll delivers within a second
        log.exception("could not announce committed journal events")


def ring(newest_id: int | None, controls: list[Control]) -> None:
    """Tells the relays that events up to `newest_id` are committed, and what was revoked."""
    relay = local_relay()
    if relay is not None:
        relay.notify(newest_id, controls)
        return
    url = current_app.config.get("REDIS_URL") if has_app_context() else None
    if url:
        # A process without sockets of its own (the CLI, a test, a worker): ring the servers.
        publish_external(url, newest_id, controls)
