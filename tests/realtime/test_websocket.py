"""ediary.realtime.websocket: Engine.IO's WebSocket transport read in the request's greenlet.

The server side runs here, in gevent greenlets over a socket pair, as gunicorn's gevent worker
runs it (gunicorn has parsed the handshake's request into the environ and hands over its socket);
the client side is wsproto's client, frame by frame. Every socket of the end-to-end tests
(tests/servers/ runs ediary.wsgi) goes through it too.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gevent
import greenlet
import pytest
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

from ediary.realtime.websocket import WebSocket

MAX_MESSAGE = 1000


@dataclass
class EngineIO:
    """Stands in for Engine.IO: its limit on a message, and a handler that echoes."""

    max_http_buffer_size: int = MAX_MESSAGE
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

    def __init__(self, environ_headers: dict[str, str] | None = None) -> None:
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
        self.engineio = EngineIO()
        self.statuses: list[str] = []
        self.outcome: list[Any] = []
        self.server = gevent.spawn(self._serve)

    def _serve(self) -> None:
        transport = WebSocket(self.engineio.handler, self.engineio)
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
