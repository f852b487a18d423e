"""Engine.IO's pings on a timer of the event loop, not in a greenlet per socket.

python-engineio pings a socket `ping_interval` seconds after its last pong from a background
task started for that one ping (`Socket.schedule_ping` -> `_send_ping`): under gevent a greenlet
per socket, asleep nearly all the time, with its saved C stack and its own page of Python frames,
and one more greenlet spawned for every ping. At 10,000 idle sockets that was ~8 KB per socket
and much of the process's CPU (bench/idle.py). A libev timer does the same wait for ~100 bytes,
and its callback only queues the PING packet (the socket's writer greenlet sends it), which
never blocks the loop. What a ping does, and when, is unchanged: Engine.IO's own `_send_ping`.

Installed by the server's entry point (ediary/wsgi.py) under gevent; any other async mode (the
tests' threading) keeps Engine.IO's own tasks.
"""

from __future__ import annotations

import time
from typing import Any

import gevent
from engineio import packet
from engineio import socket as engineio_socket

_engineio_schedule_ping = engineio_socket.Socket.schedule_ping


def schedule_ping(socket: Any) -> None:
    """`Socket.schedule_ping`: the next ping `ping_interval` after the previous one's pong."""
    if socket.server.async_mode != "gevent":
        _engineio_schedule_ping(socket)
        return
    if socket.last_ping:  # only once the previous ping's wait completed, as Engine.IO does
        socket.last_ping = None
        timer = gevent.get_hub().loop.timer(socket.server.ping_interval)
        timer.start(send_ping, socket, timer)


def send_ping(socket: Any, timer: Any) -> None:
    """`Socket._send_ping` after its sleep, in the event loop: it only queues the packet."""
    timer.close()
    if not socket.closing and not socket.closed:
        socket.last_ping = time.time()
        socket.send(packet.Packet(packet.PING))


def install() -> None:
    engineio_socket.Socket.schedule_ping = schedule_ping
