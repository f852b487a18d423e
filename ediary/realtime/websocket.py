"""Engine.IO's WebSocket transport under gunicorn's gevent worker, read in the request's greenlet.

python-engineio's gevent driver serves a WebSocket with simple-websocket, which reads the socket
in a thread of its own (a greenlet under gevent) and hands each message over to the request's
greenlet through an Event, and which keeps the handshake's h11 state for the socket's life. At
10,000 idle sockets that is a third greenlet per socket with its saved C stack, the handshake's
objects, and two more greenlet switches for every pong (bench/idle.py, bench/README.md): most of
what an idle socket costs beyond Engine.IO's own. Here the request's greenlet, which only waited
for that thread, reads the socket itself. The framing is still wsproto's, the library
simple-websocket uses, and so is the check of the handshake; only its open connection is kept.

Installed by the server's entry point (ediary/wsgi.py) in place of the gevent driver's
`websocket`; a request without gunicorn's socket (another server) keeps the driver's own.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any, cast

import gevent.lock
from engineio.async_drivers import gevent as engineio_gevent
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import CloseReason
from wsproto.handshake import H11Handshake
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

RECEIVE_BYTES = 4096  # simple-websocket's

# The request headers the opening handshake reads (RFC 6455 4.2.1), as the WSGI environ has them.
# Per-message compression is never accepted (ediary.realtime.SocketPaths: ~90 KB per socket).
HANDSHAKE_HEADERS = {
    "HTTP_HOST": b"Host",
    "HTTP_CONNECTION": b"Connection",
    "HTTP_UPGRADE": b"Upgrade",
    "HTTP_SEC_WEBSOCKET_KEY": b"Sec-WebSocket-Key",
    "HTTP_SEC_WEBSOCKET_VERSION": b"Sec-WebSocket-Version",
}

_library_websocket = engineio_gevent._async["websocket"]

# The open WebSockets by Engine.IO socket id, for the pings sent from the event loop
# (ediary.realtime.pings); a socket leaves when its request ends.
OPEN: dict[str, WebSocket] = {}


def install() -> None:
    engineio_gevent._async["websocket"] = WebSocket


def upgrade_request(environ: dict[str, Any]) -> bytes:
    """The opening handshake's request again as bytes, for wsproto to check (gunicorn has
    parsed it already; WSGI strings are Latin-1 by definition)."""
    lines = [b"GET / HTTP/1.1"]
    for key, name in HANDSHAKE_HEADERS.items():
        if key in environ:
            lines.append(name + b": " + environ[key].encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


class WebSocket:
    """What Engine.IO's `Socket._websocket_handler` talks to: `wait()` for the next message (None
    once the socket is closed), `send(message)` and `close()`. Engine.IO's writer greenlet sends;
    the request's greenlet, in `wait()`, reads and answers the control frames."""

    __slots__ = ("connection", "handler", "lock", "messages", "parts", "server", "size", "sock")

    def __init__(self, handler: Callable[[WebSocket], Any], server: Any) -> None:
        self.handler = handler
        self.server = server  # Engine.IO's: its max_http_buffer_size bounds a message
        self.connection: Connection | None = None  # None: not open, or closed by either side
        self.messages: list[str | bytes] = []
        self.parts: list[Any] = []  # of a message still arriving
        self.size = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if sock is None:
            library = _library_websocket(self.handler, self.server)
            return cast(Iterable[bytes], library(environ, start_response))
        handshake = H11Handshake(ConnectionType.SERVER)
        try:
            handshake.receive_data(upgrade_request(environ))
            request = next(handshake.events(), None)
        except RemoteProtocolError:
            request = None  # a header missing or malformed: wsproto names none we show
        if not isinstance(request, Request):
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Bad WebSocket handshake"]
        sock.sendall(handshake.send(AcceptConnection()))
        self.sock = sock
        self.connection = handshake.connection
        del handshake, request  # its h11 state, not kept for the socket's life in this frame
        self.lock = gevent.lock.Semaphore()  # both greenlets send: a frame is never split
        sid = getattr(getattr(self.handler, "__self__", None), "sid", None)  # Engine.IO's socket
        if sid is not None:
            OPEN[sid] = self
        try:
            self.handler(self)
        finally:
            if sid is not None:
                OPEN.pop(sid, None)
        raise StopIteration  # gunicorn's sign that the app has had the connection to itself

    def wait(self) -> str | bytes | None:
        while not self.messages:
            if self.connection is None:
                return None
            try:
                data = self.sock.recv(RECEIVE_BYTES)
            except OSError:
                data = b""
            if not data:
                self.connection = None
                return None
            self.connection.receive_data(data)
            self._handle_events(self.connection)
        return self.messages.pop(0)

    def _handle_events(self, connection: Connection) -> None:
        for event in connection.events():
            if isinstance(event, Message):
                self.size += len(event.data)
                if self.size > self.server.max_http_buffer_size:
                    # Engine.IO's own check, but before the whole message is in memory.
                    raise ValueError("packet is too large")
                self.parts.append(event.data)
                if event.message_finished:
                    text = isinstance(event, TextMessage)
                    self.messages.append(("" if text else b"").join(self.parts))
                    self.parts.clear()
                    self.size = 0
            elif isinstance(event, Ping):
                self._send(event.response())
            elif isinstance(event, CloseConnection):
                # The client's close, or wsproto's for a frame that broke the protocol (its
                # code says which): answered with the same code, and the socket is done.
                self._send(event.response())
                self.connection = None
                return

    def send(self, message: str | bytes) -> None:
        if self.connection is None:
            raise OSError("the WebSocket is closed")  # Engine.IO's writer stops on it
        self._send(BytesMessage(message) if isinstance(message, bytes) else TextMessage(message))

    def send_now(self, message: str) -> bool:
        """Sends a short text message from the event loop itself, if it can go at once: True if
        it went, False to leave it to Engine.IO's writer (nothing went). For the pings
        (ediary.realtime.pings): through the writer greenlet, each took a queue, a timed wait
        and two greenlet switches to send three bytes (bench/README.md, idle sockets)."""
        connection = self.connection
        if connection is None or self.lock.locked():
            return False  # closed, or a message is on its way: the ping goes after it
        try:
            data = connection.send(TextMessage(message))  # framing only: nothing sent yet
        except LocalProtocolError:
            return False  # closing
        try:
            # The socket is non-blocking under gevent; the event loop must not wait on it.
            sent = os.write(self.sock.fileno(), data)
        except OSError:
            return False  # full (the writer will wait for room), or broken (it will find out)
        if sent < len(data):  # the rest of the frame before anything else is sent
            self.lock.acquire()  # free: checked above, and nothing ran since
            gevent.spawn(self._send_rest, data[sent:])
        return True

    def _send_rest(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            pass  # a broken socket: its reader finds out
        finally:
            self.lock.release()

    def _send(self, event: Event, connection: Connection | None = None) -> None:
        connection = connection or self.connection
        if connection is None:
            return
        try:
            data = connection.send(event)
        except LocalProtocolError:
            return  # the closing handshake is already under way
        with self.lock:
            self.sock.sendall(data)

    def close(self) -> None:
        """Sends the close frame and shuts the socket, which wakes `wait()` in the request's
        greenlet: its loop ends, and gunicorn closes the connection."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        with contextlib.suppress(OSError):
            self._send(CloseConnection(code=CloseReason.NORMAL_CLOSURE), connection)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
