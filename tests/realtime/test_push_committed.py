"""A commit in this process is pushed from its own rows, without reading them back (issue 19
item 2: an entry's delivery costs the relay no statement), unless they do not follow the relay's
head: then the journal is read, and nothing is skipped or sent twice.

The relay is driven by hand (`_cycle`, the pump's step) and its sockets are in memory (the
`Sockets` of test_cheap_resume); the statements sent to the database are counted.
"""

from __future__ import annotations

import time

import pytest
from flask import Flask

from ediary.extensions import socketio
from ediary.realtime import delivery
from ediary.realtime.controls import SESSIONS, Control
from ediary.realtime.relay import Relay
from tests import factories
from tests.realtime.test_cheap_resume import Sockets, grade, journal_reads, resume


@pytest.fixture
def relay(app: Flask, world: factories.World, monkeypatch: pytest.MonkeyPatch) -> Relay:
    """This process's relay (what `delivery` rings after a commit), at the journal's newest id,
    not started: `cycle` runs its pump's step."""
    relay = Relay(app, socketio, None)
    monkeypatch.setattr(delivery, "local_relay", lambda: relay)
    relay.head = grade(world, "4")
    relay.inbox.get_nowait()  # that commit's ring: dispatched already, as the head says
    return relay


def cycle(relay: Relay) -> None:
    """One step of the pump, with its once-a-second poll not due."""
    relay.last_read = time.monotonic()
    relay._cycle()


def test_a_commit_here_is_pushed_from_its_rows_without_reading_the_journal(
    relay: Relay, world: factories.World, statements: list[str]
) -> None:
    sockets = Sockets(relay)
    resume(relay, world, "parent", relay.head)
    newer = grade(world, "5")
    statements.clear()
    cycle(relay)
    assert sockets.events("parent") == [newer]
    assert relay.head == newer
    assert journal_reads(statements) == []


def test_rows_after_a_gap_are_read_from_the_journal_with_the_gap(
    relay: Relay, world: factories.World, statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's commit came between the head and this commit's rows (its ring not
    heard yet): the rows do not follow the head, so the journal is read, and both events go out
    in id order, once each."""
    sockets = Sockets(relay)
    resume(relay, world, "parent", relay.head)
    with monkeypatch.context() as elsewhere:
        elsewhere.setattr(delivery, "local_relay", lambda: None)  # committed by another process
        other = grade(world, "3")
    mine = grade(world, "5")
    statements.clear()
    cycle(relay)
    assert sockets.events("parent") == [other, mine]
    assert journal_reads(statements), "the gap was not read from the journal"
    cycle(relay)  # nothing more: no read, nothing sent twice
    assert sockets.events("parent") == [other, mine]


def test_rows_read_already_are_not_pushed_again_nor_read_again(
    relay: Relay, world: factories.World, statements: list[str]
) -> None:
    """The journal's read (a peer's ring, the poll) may reach this process's commit before its
    own ring does: the ring's rows are then behind the head."""
    sockets = Sockets(relay)
    resume(relay, world, "parent", relay.head)
    newer = grade(world, "5")
    relay.advance()  # read before the commit's ring was taken from the inbox
    assert sockets.events("parent") == [newer]
    statements.clear()
    cycle(relay)
    assert sockets.events("parent") == [newer]
    assert journal_reads(statements) == []


def test_a_revocation_in_the_same_cycle_reads_the_journal_in_its_order(
    relay: Relay, world: factories.World, statements: list[str]
) -> None:
    """A revocation is applied at its place in the journal's order, which only the read keeps:
    with a commit before it and one after it in the same cycle, the rows are read, not pushed,
    and the revocation comes between the two events (pushed, both would go out before it)."""
    sockets = Sockets(relay)
    resume(relay, world, "parent", relay.head)
    before = grade(world, "5")
    control = Control(SESSIONS, world.parent.id).placed_after(before)
    relay.notify(None, [control])
    after = grade(world, "3")

    def apply(applied: Control) -> None:  # noted where the events are, in their order
        sockets.sent.append(("parent", "control", {"id": applied}))

    relay.apply = apply  # type: ignore[method-assign,assignment]
    statements.clear()
    cycle(relay)
    order = [data["id"] for sid, name, data in sockets.sent if name in ("event", "control")]
    assert order == [before, control, after]
    assert journal_reads(statements)
