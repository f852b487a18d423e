"""Delivery after commit, for every code path that commits: no caller has to remember it.

A transaction notes the journal rows it writes and the revocations its operations declared
(`declare`, called by `ediary.access.revocation`); after COMMIT it rings the relay (`relay.py`)
with them: the relay of this process when it runs one (a server process), and every server
process through Redis. This is the one thing that happens after a commit: anything else a commit
must cause is a journal event or a declared control, applied by the relays in journal order, so
that no operation ever emits on Socket.IO itself. Nothing is rung on rollback, and what a
rolled-back savepoint noted is forgotten with it (`TransactionNotes`).

The doorbell between processes carries no events. Each server process reads the journal itself,
in id order, from the last id it has dispatched (its own commits' rows it may push as they are,
when they follow that id without a gap: `relay._push_committed`), and a client resumes from the
last id it applied: the journal is the source of truth (DESIGN.md), Redis only makes it fast.
That works only if ids become visible in id order, so no reader ever sees id 11 before id 10
commits and skips 10 for good. SQLite gives that for free (one writer at a time). On PostgreSQL
a sequence hands out ids in insert order, not commit order, so ids are handed out **at the
commit only**, under one transaction-scoped advisory lock held from the journal's INSERT to the
end of COMMIT:

1. During the transaction's work no lock is taken. A journal row an operation publishes is held
   back (`hold`; one added to the session otherwise, at its flush: `hold_events`): it waits in
   the transaction's notes, without an id, and a rolled-back savepoint forgets it with its other
   rows.
2. At the commit (`number_events`, `before_commit`, after the work's last flush) the transaction
   inserts its held rows with one statement that first takes the lock (`_locking_insert`): they
   get their ids once it is granted, and everything that depends on an id is written with
   them or right after, still under the lock: a kiosk submission's key with its events' ids
   (`insert_with_ids`, in the same statement), the messages queued for each event
   (`notifications.enqueue.queue_planned`), the revocations placed after the newest id
   (`place_controls`). Then COMMIT, which releases the lock once the rows are visible.

So any two transactions that write journal rows take their ids one after the other and become
visible in that order (the second cannot get an id before the first has committed), which also
makes "the newest id a client applied" a safe resume point, and a transaction's diary work
(reads, diary rows, history) runs in parallel with every other's. The lock is held only for a
few INSERTs and the COMMIT. A transaction that writes no journal row and declares nothing never
takes it.

Why not the other known way, a relay that reads only rows below the oldest running writer
(`pg_snapshot_xmin` over an `xid8` column): a transaction's xid is assigned at its first write,
not when it takes a journal id, so xid order is not id order; a reader by "last id seen" (every
client and relay) could still pass an id that commits later. It needs a cursor of (xid, id), or a
gap watch with snapshots, in the relays and in every client's resume: a wider change for the same
guarantee.

The listeners here are installed by `ediary.transactions`, which says in what order and why.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from flask import current_app, has_app_context
from sqlalchemy import Connection, Dialect, Table, TextClause, func, insert, inspect, select, text
from sqlalchemy.orm import Session, UOWTransaction

from ediary import bulk
from ediary.audit.recording import current_actor
from ediary.db import (
    TransactionNotes,
    bind_processor,
    cast_type,
    db,
    set_exclusive,
    utcnow,
)
from ediary.journal.models import JournalEvent
from ediary.realtime.controls import Control
from ediary.realtime.doorbell import publish_external
from ediary.realtime.relay import local_relay

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key: the first 8 bytes of sha256("ediary.journal"), as a signed bigint.
JOURNAL_LOCK_KEY = 2361770376309191142

# The journal rows the transaction wrote, held back until its commit numbers them (no id yet).
HELD: TransactionNotes[JournalEvent] = TransactionNotes("ediary.delivery.held")
# What one transaction announces to the relays once it commits.
JOURNAL_ROWS: TransactionNotes[JournalEvent] = TransactionNotes("ediary.delivery.journal_rows")
CONTROLS: TransactionNotes[Control] = TransactionNotes("ediary.delivery.controls")
# The writers' lock is held (taken at the commit; held until the transaction ends).
WRITERS_LOCK: TransactionNotes[bool] = TransactionNotes("ediary.delivery.writers_lock")
# The DBAPI connection whose waits stopped yielding once it held the lock (`db.ExclusiveWaits`).
EXCLUSIVE: TransactionNotes[Any] = TransactionNotes("ediary.delivery.exclusive")
# The newest journal id when the controls were placed, at the commit.
TAIL: TransactionNotes[int] = TransactionNotes("ediary.delivery.tail")


class WithIds(NamedTuple):
    """A row that names the ids some of its transaction's journal rows get at the commit: a
    kiosk submission's key, whose stored result lists its events (kiosks/submissions.py).

    `values` are all its columns; the JSON object in `values[into]` gets "event_ids", the ids of
    `rows` in order. It is inserted at the commit with the journal's rows: on PostgreSQL in
    their statement, so that under the writers' lock it costs no round trip of its own."""

    table: Table
    values: dict[str, Any]
    into: str
    rows: list[JournalEvent]


# The rows to insert with the journal's ids, at the commit (`insert_with_ids`).
WITH_IDS: TransactionNotes[WithIds] = TransactionNotes("ediary.delivery.with_ids")


def declare(*controls: Control) -> None:
    """Adds controls to the operation's transaction: rung to every relay after its commit."""
    current_actor("a revocation")
    CONTROLS.add(db.session(), controls)


def insert_with_ids(row: WithIds) -> None:
    """Adds a row to the transaction, inserted at its commit with its journal rows' ids (see
    `WithIds`). A constraint it breaks (a twin's key) fails the commit."""
    current_actor("a row with event ids")
    # Every column given: on PostgreSQL the row is inserted by text, where no default applies.
    missing = {column.key for column in row.table.columns} - set(row.values)
    if missing:
        raise ValueError(f"{row.table.name}: columns {sorted(missing)} not given")
    WITH_IDS.add(db.session(), [row])


def held(session: Session) -> list[JournalEvent]:
    """The journal rows this transaction has written so far, in order, still without ids."""
    return HELD.get(session)


def _take_writers_lock(session: Session) -> None:
    """The lock alone, for a commit that declares controls and publishes no row (`place_controls`
    reads the newest id under it); a commit with rows takes it in their INSERT."""
    if WRITERS_LOCK.get(session):
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": JOURNAL_LOCK_KEY})
    _granted(session, connection)


def _granted(session: Session, connection: Connection) -> None:
    """The lock is held: from here to the end of COMMIT every writer of the district waits for
    this transaction, so its few round trips no longer let this process's other greenlets run
    first (`db.ExclusiveWaits`; a no-op on SQLite's connections); `release_exclusive` undoes it
    when the transaction ends."""
    raw = connection.connection.dbapi_connection
    set_exclusive(raw, True)
    EXCLUSIVE.add(session, [raw])
    WRITERS_LOCK.add(session, [True])


def release_exclusive(session: Session, *_args: Any) -> None:
    """`after_commit` and `after_rollback`: the lock is gone with the transaction, and the
    connection's waits yield again (its return to the pool would also see to it)."""
    for raw in EXCLUSIVE.get(session):
        set_exclusive(raw, False)


def hold(row: JournalEvent) -> None:
    """A journal row an operation publishes (`journal.operations.publish`) waits for the commit,
    which numbers it under the lock; it never enters the session, as a rolled-back savepoint
    forgets it with its notes. Once the commit holds the lock (`number_events`), it is added to
    the session, whose flush writes it at once.

    Held here, not at the flush (`hold_events`): adding a roll's 25 rows to the session and
    taking them out again at the flush was half of the cost of publishing them (0.17 of
    0.36 ms, this machine)."""
    session = db.session()
    if WRITERS_LOCK.get(session):
        session.add(row)
    else:
        HELD.add(session, [row])


def hold_events(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    """`before_flush`: a journal row added to the session without `hold` waits for the commit
    too, as a published one: no journal row is ever written before the lock is held.

    Once the commit holds the lock (`number_events`), they are written at once."""
    if WRITERS_LOCK.get(session):
        return
    rows = [obj for obj in session.new if isinstance(obj, JournalEvent)]
    if not rows:
        return
    rows.sort(key=lambda row: inspect(row).insert_order or 0)  # `session.new` is a set
    for row in rows:
        session.expunge(row)
    HELD.add(session, rows)


def number_events(session: Session) -> None:
    """`before_commit`: the held journal rows get their ids, under the lock until COMMIT ends.

    After `revocation.require_declarations`, whose flush wrote the rest of the transaction: what
    runs from here on runs under the lock. A transaction that declares controls takes the lock
    here too, even without rows (`place_controls` reads the newest id under it)."""
    if session.get_nested_transaction() is not None:
        return  # a savepoint's release: the whole transaction is numbered at its commit
    rows = HELD.get(session)
    with_ids = WITH_IDS.get(session)
    if rows:
        _insert_numbered(session, rows, with_ids)
        return
    if CONTROLS.get(session):
        _take_writers_lock(session)
    _insert_with_ids(session, with_ids)  # ids of no rows: none


# The journal's columns a held row gives; its id comes from the sequence, at the commit.
_FIELDS = ("at", "type", "school_id", "audience", "audience_id", "payload")


# Per dialect, as each engine has its own (its JSON serializer is the payload's processor); a
# few are enough, and a bounded cache keeps the tests' many apps from piling up.
@functools.lru_cache(maxsize=8)
def _locking_insert(
    dialect: Dialect, with_ids: tuple[Table, tuple[str, ...], str] | None = None
) -> tuple[TextClause, bulk.Arrays, dict[str, Any]]:
    """The INSERT that numbers the held rows on PostgreSQL and first takes the writers' lock,
    with the source of the rows' parameters (`bulk.params`); and with `with_ids` (a `WithIds`
    row's table, columns and JSON column), that row's INSERT too, as a second data-modifying
    part of the same statement (`_with_ids_part`), with its parameters' bind processors.

    The lock is an uncorrelated subquery in the WHERE: PostgreSQL runs it once, as a one-time
    filter, before it reads the first row, so no row reaches the sequence before the lock is
    granted (`EXPLAIN` shows "One-Time Filter" above the "Function Scan"). It saves the lock's
    own round trip and statement, which every entry paid. The rows come as one array per
    column (`ediary.bulk`), so the statement is the same for any number of rows and SQLAlchemy
    compiles it once (its VALUES construct is never cached: a roll's 25 rows were compiled anew
    at every commit); the payloads as one JSON array (a roll's 25 payloads as a text array:
    0.68 ms, against 0.04 ms as one JSON array, this machine). Ids follow `ORDER BY held.n`,
    the order the rows were published in, as SQLAlchemy's own `sort_by_parameter_order`
    relies on."""
    table = JournalEvent.__table__
    held = bulk.arrays(tuple((name, table.c[name]) for name in _FIELDS), dialect, "held")
    fields = ", ".join(_FIELDS)
    # Built from the table's own column names and types: no input reaches the text.
    numbering = (
        f"INSERT INTO journal ({fields}) SELECT {fields}"  # noqa: S608
        f" FROM {held.source}"
        f" WHERE (SELECT pg_advisory_xact_lock({JOURNAL_LOCK_KEY})) IS NOT NULL"
        " ORDER BY n RETURNING id"
    )
    if with_ids is None:
        return text(numbering), held, {}
    other, columns, _into = with_ids
    processors = {f"w_{name}": bind_processor(other.c[name], dialect) for name in columns}
    statement = f"WITH numbered AS ({numbering}), {_with_ids_part(dialect, *with_ids)}"
    return text(statement), held, processors


def _with_ids_part(dialect: Dialect, table: Table, columns: tuple[str, ...], into: str) -> str:
    """The rest of `_locking_insert`'s statement for a `WithIds` row: its INSERT, whose JSON
    column `into` gets the ids of the held rows at `:w_positions` (their places among the held
    rows, from 1), read from the journal's INSERT's RETURNING (`numbered`), which a statement's
    other parts see, unlike the table itself. The statement returns the journal's ids.

    A held row's place is the rank of its id: ids follow the held rows' order (`ORDER BY n`).
    Built from the table's own column names and types: no input reaches the text."""

    ids = (
        "(SELECT coalesce(jsonb_agg(id ORDER BY id), '[]'::jsonb) FROM ranked"
        " WHERE n = ANY(CAST(:w_positions AS bigint[])))"
    )

    def value(name: str) -> str:
        given = f":w_{name}"
        if name == into:
            given = f"CAST({given} AS jsonb) || jsonb_build_object('event_ids', {ids})"
        return f"CAST({given} AS {cast_type(table.c[name], dialect)})"

    values = ", ".join(value(name) for name in columns)
    return (
        "ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM numbered),"  # noqa: S608
        f" with_ids AS (INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({values}))"
        " SELECT id FROM numbered"
    )


def _insert_numbered(session: Session, rows: list[JournalEvent], with_ids: list[WithIds]) -> None:
    """The held rows in one INSERT, their ids in the order they were published; on PostgreSQL
    the same statement takes the writers' lock (`_locking_insert`) and inserts the transaction's
    `WithIds` row when it has one (a kiosk submission's key); more than one, or on SQLite, are
    inserted right after (`_insert_with_ids`).

    With Core, not `add_all` and a flush: the unit of work's bookkeeping for a roll's 25 rows
    was most of the time the lock is held (a profile of `bench.roll_cost`), and these rows are
    never changed again (`refuse_change`). They stay out of the session; the listeners that an
    ORM flush would have run for them run as steps of the commit (`queue_planned`), and the
    rows are noted for the relays here."""
    now = utcnow()
    for row in rows:
        row.at = row.at or now  # the column's default, as a flush would have set it
    connection = session.connection()
    given = [{name: getattr(row, name) for name in _FIELDS} for row in rows]
    folded = None  # the `WithIds` row the journal's statement inserts, if any
    if connection.dialect.name == "postgresql":
        folded = with_ids[0] if len(with_ids) == 1 else None
        shape = None
        if folded is not None:
            shape = (folded.table, tuple(folded.values), folded.into)
        statement, held, processors = _locking_insert(connection.dialect, shape)
        columns = bulk.params(held, given)
        if folded is not None:
            for name, value in folded.values.items():
                process = processors[f"w_{name}"]
                columns[f"w_{name}"] = process(value) if process else value
            place = {id(row): n for n, row in enumerate(rows, 1)}
            columns["w_positions"] = [place[id(row)] for row in folded.rows]
        ids = sorted(connection.scalars(statement, columns))
        _granted(session, connection)
    else:  # SQLite: one writer at a time, no lock to take
        ids = list(
            connection.scalars(
                insert(JournalEvent).returning(JournalEvent.id, sort_by_parameter_order=True),
                given,
            )
        )
    for row, new_id in zip(rows, ids, strict=True):
        row.id = new_id
    JOURNAL_ROWS.add(session, rows)
    _insert_with_ids(session, with_ids, inserted=folded)


def _insert_with_ids(
    session: Session, with_ids: list[WithIds], inserted: WithIds | None = None
) -> None:
    """The `WithIds` rows name their journal rows' ids (which those have by now), and those not
    `inserted` with the journal's rows already are inserted: with Core, not `session.add`, as
    the commit's flush of one row (the unit of work's set-up for it) cost more than the INSERT."""
    for row in with_ids:
        row.values[row.into]["event_ids"] = sorted(r.id for r in row.rows)
        if row is not inserted:
            session.connection().execute(insert(row.table), [row.values])


def collect_journal_rows(session: Session, _ctx: UOWTransaction) -> None:
    """`after_flush`: the journal rows to announce after commit (with their ids by now)."""
    JOURNAL_ROWS.add(session, (obj for obj in session.new if isinstance(obj, JournalEvent)))


def place_controls(session: Session) -> None:
    """`before_commit`: the declared revocations placed in the journal's order.

    Under the writers' lock (taken by `number_events`), every event up to the newest id has
    committed before this transaction, so "after the newest id" is exact.
    """
    if session.get_nested_transaction() is not None or not CONTROLS.get(session):
        return  # a savepoint's release, or nothing revoked
    _take_writers_lock(session)
    newest = session.connection().scalar(select(func.max(JournalEvent.id)))
    TAIL.add(session, [newest or 0])


def deliver(session: Session) -> None:
    """`after_commit`: rings the relays with the committed events and the revocations."""
    rows = JOURNAL_ROWS.get(session)
    ids = [row.id for row in rows]
    controls = list(dict.fromkeys(CONTROLS.get(session)))  # once each, in declaration order
    tail = max(TAIL.get(session), default=0)
    if not ids and not controls:
        return
    newest = max([tail, *ids])
    try:
        ring(newest if ids else None, [c.placed_after(newest) for c in controls], rows)
    except Exception:  # the commit stands; the relays' poll delivers within a second
        log.exception("could not announce committed journal events")


def ring(newest_id: int | None, controls: list[Control], rows: Sequence[JournalEvent] = ()) -> None:
    """Tells the relays that events up to `newest_id` are committed, and what was revoked; this
    process's relay also gets the committed `rows`, which it may push without reading them."""
    relay = local_relay()
    if relay is not None:
        relay.notify(newest_id, controls, rows)
        return
    url = current_app.config.get("REDIS_URL") if has_app_context() else None
    if url:
        # A process without sockets of its own (the CLI, a test, a worker): ring the servers.
        publish_external(url, newest_id, controls)
