"""Every SQLAlchemy session listener of ediary, installed from here, in this order.

They are what makes the write path keep its promises whatever code path commits: history for
every diary row, events visible in commit order, messages queued with their event, revocations
declared and delivered. They listen on the `Session` class, so they serve every session of the
process; `create_app` installs them (and a script that writes without an app calls `install()`
itself: an operation refuses to run without them, see `audit.recording.HooksMissing`). Nothing
is installed by importing a module. SQLAlchemy runs the listeners of one event in the order
they were installed, so the order of `HOOKS` is the order they run in, and a test checks it.

Their state per transaction lives in `session.info` (`ediary.db.TransactionNotes`), and the last
two listeners forget it on a rollback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionEvents

from ediary.access import revocation
from ediary.audit import recording
from ediary.db import forget_savepoint, forget_transaction
from ediary.notifications import enqueue
from ediary.office.rollover import closed
from ediary.realtime import delivery


class Hook(NamedTuple):
    event: str
    listener: Callable[..., Any]


HOOKS: tuple[Hook, ...] = (
    # --- before each flush --------------------------------------------------------------------
    # History: an audited row written outside an operation stops the flush before any SQL is
    # sent (`UnauditedWrite`), so first: nothing below runs for a write that will be refused.
    Hook("before_flush", recording.require_operation),
    # A closed school year is read-only (the rollover closes it): a flush writing its diary
    # rows is refused before any SQL is sent, whatever operation wrote them.
    Hook("before_flush", closed.refuse_closed_years),
    # Journal rows wait for the commit: they get their ids there, under the journal's lock, so
    # ids become visible in id order without a lock during the work (realtime/delivery.py).
    # Last, so nothing above sees a row it would not write.
    Hook("before_flush", delivery.hold_events),
    # --- after each flush ----------------------------------------------------------------------
    # No journal row reaches them: rows are held as published and inserted at the commit by
    # `delivery.number_events`, outside the unit of work.
    # The history rows (§21), the legal record of exactly the rows this flush wrote: first, so a
    # failure anywhere below leaves no flush without its history (the flush fails whole).
    Hook("after_flush", recording.write_history),
    # Notifications of a journal row written by a flush rather than held (none is today:
    # `queue_planned` below queues the messages of the rows numbered at the commit).
    # The two listeners above write rows; the two below only take notes, in the order of the
    # commit steps they serve, and none of them reads another's notes.
    Hook("after_flush", enqueue.queue_messages),
    # What the flushed access-bearing rows require to be declared: here, because a row's old
    # values are known only until its flush ends; checked before the commit.
    Hook("after_flush", revocation.note_access_changes),
    # The journal rows to announce once the transaction commits.
    Hook("after_flush", delivery.collect_journal_rows),
    # --- before the commit ---------------------------------------------------------------------
    # A commit that changed access without declaring it is refused. It flushes what is pending
    # first, so the next listener sees every row of the transaction.
    Hook("before_commit", revocation.require_declarations),
    # Who is told of the held journal rows, and how (e-mail, SMS, Web Push), read now, before
    # the lock below: the rows are inserted under it by `queue_planned`, with their events.
    Hook("before_commit", enqueue.plan_messages),
    # The journal's commit-order lock (PostgreSQL advisory lock), held from here to the end of
    # COMMIT, and the held journal rows inserted under it in one statement: their ids, in
    # commit order, and the rows noted for the relays; with them the rows that name their ids
    # (a kiosk submission's key and its stored result: `delivery.insert_with_ids`).
    Hook("before_commit", delivery.number_events),
    # The e-mails, SMS and pushes planned for those rows, inserted with their ids, under the
    # lock: the event and its messages commit together or not at all (the durable queue).
    Hook("before_commit", enqueue.queue_planned),
    # The declared revocations placed in journal order: the newest id, read under the lock.
    Hook("before_commit", delivery.place_controls),
    # --- after the commit ------------------------------------------------------------------------
    # The lock went with the commit: the connection's round trips yield to other greenlets again.
    Hook("after_commit", delivery.release_exclusive),
    # Rings the relays with the committed events and revocations; they push and cut sockets.
    Hook("after_commit", delivery.deliver),
    # --- rollbacks: forgetting ------------------------------------------------------------------
    # A rollback releases the lock too: the same as after a commit.
    Hook("after_rollback", delivery.release_exclusive),
    # A savepoint that rolled back takes its notes with it (its journal rows, its declarations,
    # its held journal rows).
    Hook("after_soft_rollback", forget_savepoint),
    # The end of the whole transaction (after `after_commit` read the notes, or a rollback).
    Hook("after_transaction_end", forget_transaction),
)


def install() -> None:
    """Installs every hook on `Session`, in order; a second call changes nothing (tests and the
    CLI create many apps in one process)."""
    for hook in HOOKS:
        if not event.contains(Session, hook.event, hook.listener):
            event.listen(Session, hook.event, hook.listener)


def installed() -> list[Hook]:
    """The ediary listeners SQLAlchemy holds on `Session`, event by event, in the order they run."""
    probe = Session()  # class-level listeners show as the "parent" listeners of any session
    names = [
        name
        for name in dir(SessionEvents)
        if hasattr(getattr(probe.dispatch, name, None), "parent_listeners")
    ]
    order = {hook.event: n for n, hook in enumerate(HOOKS)}
    found = []
    for name in sorted(names, key=lambda name: (order.get(name, len(HOOKS)), name)):
        for listener in getattr(probe.dispatch, name).parent_listeners:
            if getattr(listener, "__module__", "").startswith("ediary."):
                found.append(Hook(name, listener))
    return found
