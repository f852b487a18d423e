"""Engine.IO's pings on one ticking timer of the event loop, not in a greenlet per socket.

python-engineio pings a socket `ping_interval` seconds after its last pong from a background
task started for that one ping (`Socket.schedule_ping` -> `_send_ping`): under gevent a greenlet
per socket, asleep nearly all the time, with its saved C stack and its own page of Python frames,
and one more greenlet spawned for every ping. At 10,000 idle sockets that was ~8 KB per socket
and much of the process's CPU (bench/idle.py). Here a socket waiting for its next ping is one
entry in a list of the `PingWheel`: the sockets are grouped by the tick (a second) their ping is
due in, and one libev timer of the process wakes every tick and pings that tick's sockets
together, from the event loop. The pings of a tick are written in one wake-up of the process and
their pongs are read in few: a wake-up of an idle process (epoll, the switch into the loop) cost
more than the ping it was for, when each socket had a timer of its own (bench/README.md, idle
sockets). A ping is written to the socket when it can go at once (the WebSocket of
ediary.realtime.websocket: then the socket's writer greenlet need not wake), or else only queued
for that writer: it never blocks the loop. What a ping does is Engine.IO's own `_send_ping`; it
goes `ping_interval` after the previous pong, up to a tick later (a second in 25 or 50).

Installed by the server's entry point (ediary/wsgi.py) under gevent; any other async mode (the
tests' threading) keeps Engine.IO's own tasks.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import gevent
from engineio import packet
from engineio import socket as engineio_socket

from ediary.realtime import websocket

_engineio_schedule_ping = engineio_socket.Socket.schedule_ping
_engineio_poll = engineio_socket.Socket.poll
PING = packet.Packet(packet.PING).encode()
TICK_SECONDS = 1.0

log = logging.getLogger(__name__)


class PingWheel:
    """The sockets waiting for their next ping, by the tick it is due in; one timer ticks, and
    only while a ping is waiting. A timer wheel, as event loops keep many coarse timeouts;
    gevent's loop has none to lend, hence this small one."""

    def __init__(self, tick_seconds: float) -> None:
        self.tick_seconds = tick_seconds
        self.due: dict[int, list[Any]] = {}  # tick number -> the sockets to ping then
        self.timer: Any = None

    def add(self, socket: Any, after: float) -> None:
        tick = math.ceil((time.monotonic() + after) / self.tick_seconds)
        self.due.setdefault(tick, []).append(socket)
        if self.timer is None:
            self.timer = gevent.get_hub().loop.timer(self.tick_seconds, self.tick_seconds)
            self.timer.start(self.tick)

    def tick(self) -> None:
        now = time.monotonic() / self.tick_seconds
        for tick in [t for t in self.due if t <= now]:
            for socket in self.due.pop(tick):
                try:
                    send_ping(socket)
                except Exception:  # one socket's failure must not leave the others unpinged
                    log.exception("pinging a socket failed")
        if not self.due:
            self.timer.close()
            self.timer = None


WHEEL = PingWheel(TICK_SECONDS)


def schedule_ping(socket: Any) -> None:
    """`Socket.schedule_ping`: the next ping `ping_interval` after the previous one's pong."""
    if socket.server.async_mode != "gevent":
        _engineio_schedule_ping(socket)
        return
    if socket.last_ping:  # only once the previous ping's wait completed, as Engine.IO does
        socket.last_ping = None
        WHEEL.add(socket, socket.server.ping_interval)


def send_ping(socket: Any) -> None:
    """`Socket._send_ping` after its wait, in the event loop: the PING written to the socket's
    WebSocket at once when it can go without waiting (ediary.realtime.websocket), else queued
    for the socket's writer greenlet as Engine.IO does."""
    if not socket.closing and not socket.closed:
        socket.last_ping = time.time()
        ws = websocket.OPEN.get(socket.sid)
        if ws is None or socket.upgrading or not ws.send_now(PING):
            socket.send(packet.Packet(packet.PING))


def poll(socket: Any) -> list[Any]:
    """`Socket.poll`, which Engine.IO's writer greenlet waits in for the packets to send: for a
    socket on a WebSocket of ours, without a time limit. Engine.IO's writer gives up on a socket
    after `ping_interval + ping_timeout` without a packet, counting on a PING being queued every
    `ping_interval`; the pings written at once by `send_ping` are not queued, and a socket whose
    pong is late is closed by the relay's check (`relay.check_pings`) instead, as before. The
    rest is Engine.IO's: the packets queued meanwhile go in one batch, and None ends it."""
    if socket.sid not in websocket.OPEN:
        return _engineio_poll(socket)  # type: ignore[no-any-return]
    packets = [socket.queue.get()]
    socket.queue.task_done()
    if packets == [None]:
        return []
    while not socket.queue.empty():
        packet_ = socket.queue.get_nowait()
        socket.queue.task_done()
        if packet_ is None:
            socket.queue.put(None)
            break
        packets.append(packet_)
    return packets


def install() -> None:
    engineio_socket.Socket.schedule_ping = schedule_ping
    engineio_socket.Socket.poll = poll
