"""A resume with nothing to replay reads no journal (issue 19 item 3: parents' resumes are cheap).

After a process dies, its parents reconnect in thousands, and nearly all of them missed nothing:
their `last_id` is the newest id the relay has dispatched. The relay answers those from memory.
The statements the database is sent are counted; a resume that does replay is the control (the
counting sees its journal query), and so is a resume that meets a dispatch under way.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ediary.access.scope import scope_of
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.operations.grades import record_grade
from ediary.extensions import socketio
from ediary.journal.models import JournalEvent
from ediary.realtime.relay import Relay
from ediary.realtime.rooms import LIVE, journal_filter, rooms_of
from tests import factories
from tests.realtime.conftest import school_today

JOURNAL = JournalEvent.__tablename__


class Sockets:
    """The relay's view of Socket.IO, in memory: which sid is in which room, what each got."""

    def __init__(self, relay: Relay) -> None:
        self.rooms: dict[str, set[str]] = {}
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        relay.move = self.move  # type: ignore[method-assign]
        relay.send_to_all = self.send_to_all  # type: ignore[method-assign]
        relay.local_sids = self.local_sids  # type: ignore[method-assign]

    def move(self, stream: Any, rooms: set[str]) -> None:
        stream.rooms = set(rooms)
        self.rooms[stream.sid] = set(rooms)

    def send_to_all(self, namespace: str, sids: list[str], event: str, data: Any) -> None:
        self.sent.extend((sid, event, data) for sid in sids)

    def local_sids(self, namespace: str, room: str) -> list[str]:
        return [sid for sid, rooms in self.rooms.items() if room in rooms]

    def events(self, sid: str) -> list[int]:
        return [data["id"] for to, name, data in self.sent if to == sid and name == "event"]


def grade(world: factories.World, value: str) -> int:
    record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=world.pupil,
        subject=world.lesson.subject,
        value=value,
        given_on=school_today(),
    )
    db.session.commit()
    newest = db.session.scalar(select(func.max(JournalEvent.id)))
    assert newest is not None
    return newest


@pytest.fixture
def relay(app: Flask, world: factories.World, rings: list[Any]) -> Relay:
    """A relay that has dispatched everything so far (not started: the test drives it)."""
    relay = Relay(app, socketio, None)
    relay.head = grade(world, "4")
    return relay


def resume(relay: Relay, world: factories.World, sid: str, last_id: int | None) -> Any:
    scope = scope_of(world.parent)
    stream = relay.attach(LIVE, sid, world.parent.id, world.parent.session_version)
    return relay.resume(stream, rooms_of(scope), journal_filter(scope), last_id).ack()


def journal_reads(statements: list[str]) -> list[str]:
    return [sql for sql in statements if JOURNAL in sql.lower()]


def test_a_resume_with_nothing_to_replay_reads_no_journal(
    relay: Relay, world: factories.World, statements: list[str]
) -> None:
    sockets = Sockets(relay)
    head = relay.head
    resume(relay, world, "warm-up", head)  # the scope's own queries, cached or not
    statements.clear()
    assert resume(relay, world, "up-to-date", head) == {"ok": True, "last_id": head, "replayed": 0}
    assert resume(relay, world, "fresh", None) == {"ok": True, "last_id": head, "replayed": 0}
    assert journal_reads(statements) == []
    assert sockets.events("up-to-date") == [] and sockets.events("fresh") == []

    # The control: one event missed is read from the journal and replayed.
    statements.clear()
    assert resume(relay, world, "one-behind", head - 1) == {
        "ok": True,
        "last_id": head,
        "replayed": 1,
    }
    assert journal_reads(statements), "the counting did not see the replay's query"
    assert sockets.events("one-behind") == [head]


def test_an_event_committed_after_the_relays_head_still_arrives_once(
    relay: Relay, world: factories.World, statements: list[str]
) -> None:
    """The relay's head may trail the journal (a commit not yet dispatched): the socket that
    resumed from the head gets the newer event live, from the pump, exactly once."""
    sockets = Sockets(relay)
    head = relay.head
    newer = grade(world, "5")
    statements.clear()
    assert resume(relay, world, "parent", head) == {"ok": True, "last_id": head, "replayed": 0}
    assert journal_reads(statements) == []
    relay.advance()  # the pump's next cycle
    relay.advance()
    assert sockets.events("parent") == [newer]


def test_a_resume_during_a_dispatch_asks_the_journal(
    relay: Relay, world: factories.World, statements: list[str]
) -> None:
    """While an event is being dispatched, the sockets it goes to were chosen before this one
    joined: the head alone cannot say whether the socket missed it, so the journal is read."""
    sockets = Sockets(relay)
    head = relay.head
    newer = grade(world, "3")
    relay.dispatching = newer  # the pump chose that event's sockets a moment ago
    statements.clear()
    assert resume(relay, world, "parent", head) == {"ok": True, "last_id": newer, "replayed": 1}
    assert journal_reads(statements)
    assert sockets.events("parent") == [newer]
