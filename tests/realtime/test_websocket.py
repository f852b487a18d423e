"""ediary.realtime.websocket: Engine.IO's WebSocket transport read in the request's greenlet.

The server side runs here, in gevent greenlets over a socket pair, as gunicorn's gevent worker
runs it (gunicorn has parsed the handshake's request into the environ and hands over its socket);
the client side is wsproto's client, frame by frame. Every socket of the end-to-end tests
(tests/servers/ runs ediary.wsgi) goes through it too.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import engineio
import gevent
import greenlet
import pytest
from engineio import packet
from engineio import socket as engineio_socket
from gevent import socket as gsocket
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import CloseReason

from ediary.realtime import pings, websocket
from ediary.realtime.websocket import WebSocket

MAX_MESSAGE = 1000


@dataclass
class EngineIO:
    """Stands in for Engine.IO: its limit on a message, and a handler that echoes."""

    max_http_buffer_size: int = MAX_MESSAGE
    sid: str = "engineio-sid"
    received: list[Any] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    ended: gevent.event.Event = field(default_factory=gevent.event.Event)
    socket: WebSocket | None = None
    reader: Any = None

    def handler(self, ws: WebSocket) -> None:
        self.socket = ws
        self.reader = greenlet.getcurrent()
        try:
            while (message := ws.wait()) is not None:
                self.received.append(message)
                ws.send(message)  # an echo, as Engine.IO's writer would send
        except Exception as error:
            self.errors.append(error)
        finally:
            self.ended.set()


class Client:
    """A WebSocket client on one end of the pair; the server's request greenlet on the other."""

    def __init__(
        self, environ_headers: dict[str, str] | None = None, engineio_socket: Any = None
    ) -> None:
        self.engineio = EngineIO()
        # Engine.IO's real socket when one is given, else the stand-in's echo.
        if engineio_socket is not None:
            self.handler, self.limits = engineio_socket._websocket_handler, engineio_socket.server
        else:
            self.handler, self.limits = self.engineio.handler, self.engineio
        self.sock, self.server_sock = gsocket.socketpair()
        self.ws = WSConnection(ConnectionType.CLIENT)
        request = self.ws.send(Request(host="ediary.test", target="/socket.io/"))
        headers = dict(
            line.split(": ", 1) for line in request.decode("latin-1").split("\r\n")[1:] if line
        )
        environ = {
            "gunicorn.socket": self.server_sock,
            "HTTP_HOST": headers["Host"],
            "HTTP_CONNECTION": headers["Connection"],
            "HTTP_UPGRADE": headers["Upgrade"],
            "HTTP_SEC_WEBSOCKET_KEY": headers["Sec-WebSocket-Key"],
            "HTTP_SEC_WEBSOCKET_VERSION": headers["Sec-WebSocket-Version"],
        }
        environ.update(environ_headers or {})
        self.environ = {key: value for key, value in environ.items() if value is not None}
        self.statuses: list[str] = []
        self.outcome: list[Any] = []
        self.server = gevent.spawn(self._serve)

    def _serve(self) -> None:
        transport = WebSocket(self.handler, self.limits)
        try:
            status = self.statuses.append
            self.outcome.append(transport(self.environ, lambda line, _headers: status(line)))
        except StopIteration:
            self.outcome.append(StopIteration)

    def events(self, timeout: float = 5.0) -> list[Any]:
        """What the server sent, once something came."""
        with gevent.Timeout(timeout):
            while True:
                data = self.sock.recv(65536)
                self.ws.receive_data(data or None)
                events = list(self.ws.events())
                if events or not data:
                    return events

    def send(self, event: Any) -> None:
        self.sock.sendall(self.ws.send(event))

    def open(self) -> None:
        assert isinstance(self.events()[0], AcceptConnection)

    def close(self) -> None:
        """What gunicorn does once the app is done with the connection."""
        self.server.kill()
        self.server_sock.close()
        self.sock.close()


@pytest.fixture
def client() -> Iterator[Client]:
    opened = Client()
    opened.open()
    yield opened
    opened.close()


def test_messages_go_both_ways_whole(client: Client) -> None:
    client.send(TextMessage('42/live,1["resume",{}]'))
    assert [e.data for e in client.events()] == ['42/live,1["resume",{}]']
    client.send(BytesMessage(b"\x00\x01"))
    [echo] = client.events()
    assert isinstance(echo, BytesMessage) and echo.data == b"\x00\x01"
    # A message in three frames arrives as one.
    client.send(TextMessage("2", message_finished=False))
    client.send(TextMessage("żół", message_finished=False))
    client.send(TextMessage("w"))
    assert [e.data for e in client.events()] == ["2żółw"]
    assert client.engineio.received == ['42/live,1["resume",{}]', b"\x00\x01", "2żółw"]


def test_the_request_greenlet_reads_the_socket_itself(client: Client) -> None:
    # simple-websocket read in a thread of its own: a third greenlet per socket (bench/idle.py).
    assert client.engineio.reader is client.server
    before = sum(isinstance(o, greenlet.greenlet) for o in gc.get_objects())
    client.send(TextMessage("3"))
    assert [e.data for e in client.events()] == ["3"]
    assert sum(isinstance(o, greenlet.greenlet) for o in gc.get_objects()) == before


def test_a_websocket_ping_is_answered(client: Client) -> None:
    client.send(Ping(b"are you there"))
    [pong] = client.events()
    assert isinstance(pong, Pong) and pong.payload == b"are you there"


def test_the_clients_close_is_answered_and_ends_the_handler(client: Client) -> None:
    client.send(CloseConnection(code=CloseReason.GOING_AWAY))
    [close] = client.events()
    assert isinstance(close, CloseConnection) and close.code == CloseReason.GOING_AWAY
    assert client.engineio.ended.wait(5) and client.engineio.errors == []
    client.server.join(5)
    assert client.outcome == [StopIteration]  # gunicorn: the connection was the app's
    with pytest.raises(OSError):
        client.engineio.socket.send("4late")  # type: ignore[union-attr]
    assert client.engineio.socket.send_now("2") is False  # type: ignore[union-attr]


def test_a_close_from_the_server_wakes_the_waiting_handler(client: Client) -> None:
    # Engine.IO's writer closes the socket (a revoked session, a missed pong) while the request's
    # greenlet waits for the client, who says nothing: the wait ends at once all the same.
    ws = client.engineio.socket
    assert ws is not None
    gevent.sleep(0.05)
    assert not client.engineio.ended.is_set()
    ws.close()
    assert client.engineio.ended.wait(5)
    [close] = client.events()
    assert isinstance(close, CloseConnection) and close.code == CloseReason.NORMAL_CLOSURE
    ws.close()  # a second close changes nothing
    client.server.join(5)
    assert client.outcome == [StopIteration]


def test_a_message_over_the_limit_ends_the_socket_before_it_is_all_in(client: Client) -> None:
    client.send(TextMessage("x" * (MAX_MESSAGE // 2), message_finished=False))
    client.send(TextMessage("x" * (MAX_MESSAGE // 2), message_finished=False))
    gevent.sleep(0.05)
    assert client.engineio.errors == []  # exactly the limit so far
    client.send(TextMessage("x", message_finished=False))
    assert client.engineio.ended.wait(5)
    assert [str(e) for e in client.engineio.errors] == ["packet is too large"]
    assert client.engineio.received == []


def test_a_frame_that_breaks_the_protocol_is_closed_with_its_code() -> None:
    opened = Client()
    opened.open()
    # A client frame must be masked (RFC 6455 5.1): this one is not.
    opened.sock.sendall(b"\x81\x02hi")
    [close] = opened.events()
    assert isinstance(close, CloseConnection) and close.code == CloseReason.PROTOCOL_ERROR
    assert opened.engineio.ended.wait(5) and opened.engineio.received == []
    opened.close()


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_WEBSOCKET_KEY": None},
        {"HTTP_SEC_WEBSOCKET_VERSION": "8"},
        {"HTTP_UPGRADE": "h2c"},
        {"HTTP_HOST": None},
    ],
    ids=["no key", "old version", "not websocket", "no host"],
)
def test_a_bad_handshake_is_refused_with_a_400(headers: dict[str, str | None]) -> None:
    client = Client(headers)  # type: ignore[arg-type]
    client.server.join(5)
    assert client.statuses == ["400 Bad Request"]
    assert client.outcome == [[b"Bad WebSocket handshake"]]
    assert client.engineio.socket is None  # the handler never ran
    client.close()


def test_an_open_socket_is_found_by_its_engineio_id_until_its_request_ends(
    client: Client,
) -> None:
    assert websocket.OPEN["engineio-sid"] is client.engineio.socket
    client.send(CloseConnection(code=CloseReason.NORMAL_CLOSURE))
    client.server.join(5)
    assert "engineio-sid" not in websocket.OPEN


def test_the_event_loop_sends_a_ping_itself_when_it_can_go_at_once(client: Client) -> None:
    ws = client.engineio.socket
    assert ws is not None
    # gunicorn sets its sockets blocking; gevent keeps the descriptor non-blocking all the same,
    # which is what lets the loop write without ever waiting.
    assert not os.get_blocking(client.server_sock.fileno())
    sent: list[bool] = []
    gevent.get_hub().loop.run_callback(lambda: sent.append(ws.send_now("2")))
    assert [e.data for e in client.events()] == ["2"]
    assert sent == [True] and not ws.lock.locked()


def test_a_ping_is_left_to_the_writer_while_a_message_is_being_sent(client: Client) -> None:
    ws = client.engineio.socket
    assert ws is not None
    with ws.lock:  # the writer is in the middle of a message
        assert ws.send_now("2") is False
    ws.send("4after")  # what the writer then sends: the ping was not written before it
    assert [e.data for e in client.events()] == ["4after"]


def test_a_ping_is_left_to_the_writer_when_the_socket_is_full(client: Client) -> None:
    ws = client.engineio.socket
    assert ws is not None
    filled = 0
    while True:  # the client reads nothing meanwhile
        try:
            filled += os.write(client.server_sock.fileno(), b"\x00" * 65536)
        except BlockingIOError:
            break
    assert ws.send_now("2") is False and not ws.lock.locked()


def test_the_rest_of_a_ping_written_in_part_follows_before_anything_else(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = client.engineio.socket
    assert ws is not None
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:1]))
    assert ws.send_now("2") is True
    assert ws.lock.locked()  # nothing else is sent until the frame is whole
    ws.send("4next")  # waits for the lock
    assert [e.data for e in client.events()][:2] in (["2", "4next"], ["2"])
    assert not ws.lock.locked()


def test_engineios_socket_lives_on_pings_written_by_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As ediary.wsgi installs them. Engine.IO's writer gave up on a socket after ping_interval +
    # ping_timeout without a packet to send: the pings written by the loop are not its packets.
    monkeypatch.setattr(engineio_socket.Socket, "schedule_ping", pings.schedule_ping)
    monkeypatch.setattr(engineio_socket.Socket, "poll", pings.poll)
    monkeypatch.setattr(pings, "WHEEL", pings.PingWheel(0.01))  # ticks of 10 ms, not 1 s
    server = engineio.Server(async_mode="gevent", ping_interval=0.1, ping_timeout=0.1)
    eio = engineio_socket.Socket(server, "eio-sid")
    server.sockets[eio.sid] = eio
    client = Client(engineio_socket=eio)
    client.open()
    eio.schedule_ping()  # as Engine.IO's connect does
    pinged = 0
    with gevent.Timeout(5):
        while pinged < 6:  # 0.6 s: three times the writer's old limit
            for event in client.events():
                assert event.data == "2"
                pinged += 1
                client.send(TextMessage("3"))
    assert not eio.closed and eio.queue.qsize() == 0  # none of them went through the writer
    eio.send(packet.Packet(packet.MESSAGE, data="hello"))  # and the writer still writes
    received: list[str] = []
    with gevent.Timeout(5):
        while "4hello" not in received:
            for event in client.events():
                received.append(event.data)
                if event.data == "2":  # still a live client: a late read is no lost pong
                    client.send(TextMessage("3"))
    eio.close(wait=False)
    client.server.join(5)
    assert client.outcome == [StopIteration] and "eio-sid" not in websocket.OPEN
    client.close()
