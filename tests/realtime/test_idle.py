"""What an idle socket costs the server (issue 19 item 4): the settings and bookkeeping that keep
it small. The figures themselves are bench/idle.py's; these check the behaviour they rest on."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import engineio
import gevent
import pytest
from engineio import packet
from engineio import socket as engineio_socket
from flask import Flask, request
from werkzeug.exceptions import NotFound
from werkzeug.test import EnvironBuilder

from ediary import create_app
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.extensions import socketio
from ediary.people.models import User
from ediary.people.operations import end_sessions
from ediary.realtime import (
    KIOSK_PING_INTERVAL,
    PEOPLE_PING_INTERVAL,
    SocketPaths,
    ping_interval,
    pings,
    websocket,
)
from ediary.realtime.relay import Relay, check_pings
from ediary.realtime.rooms import KIOSK, LIVE
from tests import factories
from tests.conftest import test_config as config_for


@pytest.fixture
def bare_app() -> Iterator[Flask]:
    yield create_app(config_for("sqlite://"))


@pytest.mark.parametrize(
    ("sockets", "interval"),
    [("all", KIOSK_PING_INTERVAL), ("kiosks", KIOSK_PING_INTERVAL), ("people", 50)],
)
def test_only_a_process_without_kiosks_pings_less_often(sockets: str, interval: int) -> None:
    # The kiosk agent tells a dead link by a late ping (kiosk/connection.py): its processes keep
    # Engine.IO's 25 s. A browser's socket needs one before nginx's read timeout of 75 s.
    assert ping_interval({"SOCKETS": sockets}) == interval
    assert KIOSK_PING_INTERVAL == 25 and PEOPLE_PING_INTERVAL + 20 < 75


def test_the_socketio_server_is_configured_for_idle_sockets() -> None:
    create_app(config_for("sqlite://", SOCKETS="people"))
    eio = socketio.server.eio
    assert eio.ping_interval == PEOPLE_PING_INTERVAL
    assert eio.ping_timeout == 20  # what nginx's 75 s and the clients' patience assume
    assert eio.start_service_task is False  # the relay checks the pings instead (check_pings)


def test_a_socket_events_request_context_leaves_no_garbage(bare_app: Flask) -> None:
    """A socket event runs in a request context of the Socket.IO path, which matches no route;
    the NotFound Flask keeps on the request would tie the event's frames in a cycle."""
    environ = EnvironBuilder(path="/socket.io/", query_string="EIO=4&transport=websocket")
    gc.disable()  # what is not freed by its last reference stays, and is counted
    try:
        before = _count(NotFound)
        for _ in range(20):
            with bare_app.request_context(environ.get_environ()):
                kept = request._get_current_object()  # type: ignore[attr-defined]
                assert isinstance(kept.routing_exception, NotFound)
            assert kept.routing_exception is None
        assert _count(NotFound) == before
    finally:
        gc.enable()


def _count(kind: type) -> int:
    return sum(isinstance(o, kind) for o in gc.get_objects())


@dataclass
class FakeSocket:
    """What `check_pings` reads of an Engine.IO socket."""

    sid: str
    closed: bool = False
    closing: bool = False
    late: bool = False  # its pong is overdue
    checked: list[str] = field(default_factory=list)

    def check_ping_timeout(self) -> bool:
        self.checked.append(self.sid)
        if self.late:
            self.closed = True
            if self.sid == "broken":
                raise RuntimeError("a disconnect handler failed")
            return False
        return True


@dataclass
class FakeServer:
    sockets: dict[str, Any]


def test_the_ping_check_closes_the_silent_and_forgets_the_closed() -> None:
    sockets = {
        "quiet": FakeSocket("quiet"),
        "gone": FakeSocket("gone", closed=True),
        "leaving": FakeSocket("leaving", closing=True),
        "broken": FakeSocket("broken", late=True),
        "silent": FakeSocket("silent", late=True),
    }
    eio = FakeServer(dict(sockets))
    check_pings(eio)
    # Every open socket was checked, the one after a failing one too; a closed one forgotten;
    # one closing already is left to its own close.
    assert [s.sid for s in sockets.values() if s.checked] == ["quiet", "broken", "silent"]
    assert sockets["silent"].closed and sockets["broken"].closed
    assert sorted(eio.sockets) == ["broken", "leaving", "quiet", "silent"]
    # The next pass forgets those it closed.
    check_pings(eio)
    assert sorted(eio.sockets) == ["leaving", "quiet"]


@pytest.fixture
def wheel(monkeypatch: pytest.MonkeyPatch) -> pings.PingWheel:
    """The process's wheel, ticking every 10 ms so that the tests wait little."""
    wheel = pings.PingWheel(0.01)
    monkeypatch.setattr(pings, "WHEEL", wheel)
    return wheel


def test_a_ping_waits_for_its_tick_then_is_queued_as_engineio_would(
    wheel: pings.PingWheel,
) -> None:
    server = engineio.Server(async_mode="gevent", ping_interval=0.05)
    socket = engineio_socket.Socket(server, "sid")
    socket.last_ping = 1.0  # a ping was sent, and its pong has just come
    began = time.monotonic()
    pings.schedule_ping(socket)
    assert socket.last_ping is None  # waiting for the next ping: nothing is late
    pings.schedule_ping(socket)  # a second pong for the same ping schedules nothing more
    assert sum(len(s) for s in wheel.due.values()) == 1
    while socket.queue.qsize() == 0 and time.monotonic() - began < 5:
        gevent.sleep(0.005)
    queued = [socket.queue.get_nowait() for _ in range(socket.queue.qsize())]
    assert [p.packet_type for p in queued] == [packet.PING]
    assert time.monotonic() - began >= 0.05  # never before ping_interval
    assert socket.last_ping is not None  # its pong is awaited from now on
    gevent.sleep(0.05)
    assert wheel.timer is None  # nothing waits: the process's timer stopped


def test_the_pings_due_in_one_tick_go_out_in_one_wake_up(wheel: pings.PingWheel) -> None:
    server = engineio.Server(async_mode="gevent", ping_interval=0.02)
    sockets = [engineio_socket.Socket(server, f"sid{n}") for n in range(50)]
    sent_by_tick: list[int] = []
    real_tick = wheel.tick

    def counted_tick() -> None:
        before = sum(s.queue.qsize() for s in sockets)
        real_tick()
        sent_by_tick.append(sum(s.queue.qsize() for s in sockets) - before)

    wheel.timer = gevent.get_hub().loop.timer(0.01, 0.01)  # the wheel's own, counted
    wheel.timer.start(counted_tick)
    for socket in sockets:
        socket.last_ping = 1.0
        pings.schedule_ping(socket)
    # One group per tick the pings are due in: one, or two if the loop above crossed a tick.
    groups = [len(group) for _tick, group in sorted(wheel.due.items())]
    assert sum(groups) == 50 and len(groups) <= 2
    while any(s.queue.qsize() == 0 for s in sockets) and len(sent_by_tick) < 500:
        gevent.sleep(0.005)
    assert all(s.queue.qsize() == 1 for s in sockets)  # every socket had its ping
    # ... and each tick sent a whole group or nothing: one wake-up per group.
    assert [n for n in sent_by_tick if n] == groups, sent_by_tick


def test_one_failing_socket_does_not_keep_the_others_of_its_tick_from_their_pings(
    wheel: pings.PingWheel, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = engineio.Server(async_mode="gevent", ping_interval=0)
    first, broken, last = (engineio_socket.Socket(server, sid) for sid in ("a", "b", "c"))

    def broken_send(pkt: Any) -> None:
        raise RuntimeError("a broken socket")

    monkeypatch.setattr(broken, "send", broken_send)
    for socket in (first, broken, last):
        socket.last_ping = 1.0
        pings.schedule_ping(socket)
    gevent.sleep(0.1)
    assert first.queue.qsize() == last.queue.qsize() == 1
    assert wheel.due == {} and wheel.timer is None


@pytest.mark.parametrize("goes_at_once", [True, False])
def test_a_ping_is_written_by_the_loop_itself_when_it_can_go_at_once(
    goes_at_once: bool, wheel: pings.PingWheel, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = engineio.Server(async_mode="gevent", ping_interval=0)
    socket = engineio_socket.Socket(server, "sid")
    written: list[str] = []

    class OpenWebSocket:  # ediary.realtime.websocket.WebSocket's part in a ping
        def send_now(self, message: str) -> bool:
            written.append(message)
            return goes_at_once

    monkeypatch.setitem(websocket.OPEN, "sid", OpenWebSocket())
    socket.last_ping = 1.0
    pings.schedule_ping(socket)
    gevent.sleep(0.05)
    assert written == ["2"]  # Engine.IO's PING
    queued = [socket.queue.get_nowait() for _ in range(socket.queue.qsize())]
    # Written: the writer greenlet is not woken. Not: queued for it, as Engine.IO does.
    assert [p.packet_type for p in queued] == ([] if goes_at_once else [packet.PING])
    assert socket.last_ping is not None


def test_a_closed_socket_is_not_pinged(wheel: pings.PingWheel) -> None:
    server = engineio.Server(async_mode="gevent", ping_interval=0)
    socket = engineio_socket.Socket(server, "sid")
    socket.last_ping = 1.0
    pings.schedule_ping(socket)
    socket.closed = True
    gevent.sleep(0.05)
    assert socket.queue.qsize() == 0 and socket.last_ping is None


def test_other_async_modes_keep_engineios_own_ping_task() -> None:
    server = engineio.Server(async_mode="threading", ping_interval=3600)
    socket = engineio_socket.Socket(server, "sid")
    socket.last_ping = 1.0
    started: list[Any] = []
    server.start_background_task = lambda target, *a, **k: started.append(target)
    pings.schedule_ping(socket)
    assert started == [socket._send_ping]


# -- the session sweep: the backstop for sessions ended where no doorbell rang ------------------


@pytest.fixture
def swept(app: Flask, world: factories.World, rings: list[Any]) -> Iterator[SweptRelay]:
    yield SweptRelay(Relay(app, socketio, None))


class SweptRelay:
    """A relay (not started: the test drives its sweep) that records whom it ended."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.ended: list[str] = []
        relay.end = self._end  # type: ignore[method-assign]

    def _end(self, namespace: str, sid: str, reason: str) -> None:
        assert reason == "session_ended"
        self.ended.append(sid)
        self.relay.forget(namespace, sid)


def test_the_sweep_ends_every_socket_of_an_ended_session_and_only_those(
    swept: SweptRelay, world: factories.World, statements: list[str]
) -> None:
    db.session.commit()  # the world is stored (the sweep closes its session, as the pump's)
    relay = swept.relay
    parent, other = world.parent, world.other_parent
    for n in range(3):  # a parent's phone, tablet and laptop
        relay.attach(LIVE, f"parent-{n}", parent.id, parent.session_version)
    relay.attach(LIVE, "other", other.id, other.session_version)
    relay.attach(KIOSK, "kiosk", None)  # no person's session: never swept
    assert relay.sessions == {
        (parent.id, parent.session_version): 3,
        (other.id, other.session_version): 1,
    }
    statements.clear()
    relay.sweep_sessions()
    assert swept.ended == []
    assert len([sql for sql in statements if "users" in sql.lower()]) == 1  # one query a sweep

    # Elsewhere, where no doorbell rings: only the sweep can tell (the sweep closed the session).
    parent = end_sessions(Actor.system(Channel.CLI), db.session.get_one(User, parent.id))
    db.session.commit()
    relay.sweep_sessions()
    assert sorted(swept.ended) == ["parent-0", "parent-1", "parent-2"]
    assert relay.sessions == {(other.id, other.session_version): 1}
    assert sorted(relay.streams) == [(KIOSK, "kiosk"), (LIVE, "other")]

    # A new socket of the new session is left alone; the old ones' leaving is forgotten.
    relay.attach(LIVE, "parent-new", parent.id, parent.session_version)
    relay.sweep_sessions()
    assert sorted(swept.ended) == ["parent-0", "parent-1", "parent-2"]


def test_the_sweeps_bookkeeping_follows_sockets_that_leave(swept: SweptRelay) -> None:
    relay = swept.relay
    relay.attach(LIVE, "a", 7, 1)
    relay.attach(LIVE, "b", 7, 1)
    relay.attach(LIVE, "b", 7, 2)  # the same sid again (never in practice): counted once
    relay.forget(LIVE, "a")
    relay.forget(LIVE, "a")  # a second disconnect of the same socket changes nothing
    assert relay.sessions == {(7, 2): 1}
    relay.forget(LIVE, "b")
    assert relay.sessions == {} and relay.streams == {}


@pytest.mark.parametrize("path", ["/socket.io/", "/kiosk/socket.io/"])
def test_a_socket_keeps_no_copy_of_its_request_and_is_not_offered_compression(
    bare_app: Flask, path: str
) -> None:
    """Flask-SocketIO's middleware copied every socket's environ and python-engineio's defined a
    class per request, both kept with the socket; and simple-websocket accepts permessage-deflate
    whenever the client offers it, a zlib compressor (~90 KB) then staying with the socket."""
    sockets: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []

    class Server:
        def handle_request(self, environ: dict[str, Any], _start_response: Any) -> list[bytes]:
            sockets.append(environ)
            return []

    def app(environ: dict[str, Any], _start_response: Any) -> list[bytes]:
        pages.append(environ)
        return []

    paths = SocketPaths(bare_app, Server(), app)
    offer = "permessage-deflate; client_max_window_bits"
    handshake = {"PATH_INFO": path, "HTTP_SEC_WEBSOCKET_EXTENSIONS": offer}
    paths(handshake, lambda *_: None)
    paths({"PATH_INFO": "/static/x.js", "HTTP_SEC_WEBSOCKET_EXTENSIONS": offer}, lambda *_: None)
    assert sockets == [handshake]  # the very dict: nothing copied, nothing else kept
    assert handshake["PATH_INFO"] == "/socket.io/"
    assert handshake["flask.app"] is bare_app  # what Flask-SocketIO's handlers read
    assert "HTTP_SEC_WEBSOCKET_EXTENSIONS" not in handshake
    assert set(handshake) == {"PATH_INFO", "flask.app"}  # no eventlet wrapper class either
    assert pages[0]["HTTP_SEC_WEBSOCKET_EXTENSIONS"] == offer  # a page is not touched
    assert "flask.app" not in pages[0]


def test_the_app_routes_its_socket_paths_itself(bare_app: Flask) -> None:
    assert isinstance(bare_app.wsgi_app, SocketPaths)
    assert bare_app.wsgi_app.server is socketio.server
