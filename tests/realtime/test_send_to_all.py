"""An event for several sockets is encoded once, and a socket that closed meanwhile costs the
others nothing (issue 19 item 2: a pupil's event goes to each guardian's devices and to the
school's staff).

The relay sends through this process's python-socketio server, whose Engine.IO sends are
recorded here (`_send_eio_packet`, where python-socketio's own emit ends): the packets are the
bytes a socket would get.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from engineio import exceptions as engineio_exceptions
from engineio import packet as engineio_packet
from flask import Flask
from socketio import packet as socketio_packet

from ediary.extensions import socketio
from ediary.realtime.relay import Relay
from ediary.realtime.rooms import LIVE

MESSAGE = {"id": 7, "type": "grade.added", "at": "2026-12-07T08:00:00+00:00", "value": "5"}


class Wire:
    """What this process's python-socketio server hands Engine.IO, per Engine.IO socket; the
    sockets in `closed` fail as a socket closed meanwhile does."""

    def __init__(self) -> None:
        self.sent: dict[str, list[Any]] = {}
        self.closed: set[str] = set()
        self.encoded = 0
        self.walked = 0  # python-socketio's searches of an event for bytes
        self.sids: list[str] = []

    def connect(self, name: str) -> str:
        """A socket on `/live` (its Engine.IO id is `name`), as python-socketio registers one."""
        sid = str(socketio.server.manager.connect(name, LIVE))
        self.sids.append(sid)
        return sid

    def send(self, eio_sid: str, pkt: engineio_packet.Packet) -> None:
        if eio_sid in self.closed:
            raise engineio_exceptions.SocketIsClosedError()
        self.sent.setdefault(eio_sid, []).append(pkt.encode())


@pytest.fixture
def wire(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Wire]:
    wire = Wire()
    server = socketio.server
    monkeypatch.setattr(server, "_send_eio_packet", wire.send)
    encode = server.packet_class.encode

    def counted(pkt: Any) -> Any:
        wire.encoded += 1
        return encode(pkt)

    monkeypatch.setattr(server.packet_class, "encode", counted)
    walk = server.packet_class.data_is_binary

    def walked(_cls: Any, data: Any) -> Any:
        wire.walked += 1
        return walk(data)

    monkeypatch.setattr(server.packet_class, "data_is_binary", classmethod(walked))
    yield wire
    for sid in wire.sids:  # the server is the process's: leave no socket behind
        server.manager.disconnect(sid, LIVE)


def test_several_sockets_get_the_packet_an_emit_sends_encoded_once(app: Flask, wire: Wire) -> None:
    sids = [wire.connect(name) for name in ("phone", "laptop", "director")]
    relay = Relay(app, socketio, None)
    relay.send_to_all(LIVE, sids, "event", MESSAGE)
    assert wire.encoded == 1
    assert wire.walked == 0  # JSON, never bytes: not searched for them
    expected = engineio_packet.Packet(
        engineio_packet.MESSAGE,
        socketio_packet.Packet(
            socketio_packet.EVENT, namespace=LIVE, data=["event", MESSAGE]
        ).encode(),
    ).encode()
    assert wire.sent == {name: [expected] for name in ("phone", "laptop", "director")}
    # What python-socketio's own emit sends one socket: the same packet.
    wire.sent.clear()
    socketio.server.emit("event", MESSAGE, to=sids[0], namespace=LIVE, ignore_queue=True)
    assert wire.sent == {"phone": [expected]}
    assert wire.walked > 0  # which searched it


def test_a_socket_closed_meanwhile_does_not_keep_the_event_from_the_others(
    app: Flask, wire: Wire
) -> None:
    sids = [wire.connect(name) for name in ("first", "closed", "last")]
    wire.closed.add("closed")
    relay = Relay(app, socketio, None)
    relay.send_to_all(LIVE, sids, "event", MESSAGE)
    assert sorted(wire.sent) == ["first", "last"]
    # python-socketio's emit to the same list stops at the closed socket: why the relay does not
    # use it.
    wire.sent.clear()
    with pytest.raises(engineio_exceptions.SocketIsClosedError):
        socketio.server.emit("event", MESSAGE, to=sids, namespace=LIVE, ignore_queue=True)
    assert "last" not in wire.sent


def test_no_sockets_send_nothing_and_a_socket_gone_is_passed_over(app: Flask, wire: Wire) -> None:
    """An empty list is no one (python-socketio reads no rooms as everyone's)."""
    present = wire.connect("present")
    relay = Relay(app, socketio, None)
    relay.send_to_all(LIVE, [], "event", MESSAGE)
    assert wire.sent == {} and wire.encoded == 0
    relay.send_to_all(LIVE, ["no-such-sid", present], "event", MESSAGE)
    assert sorted(wire.sent) == ["present"]
