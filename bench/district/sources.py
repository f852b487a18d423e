"""Many client addresses on loopback, so that nginx's sticky hashing spreads the clients.

The production front keeps a client on one server process by hashing its address
(`hash $binary_remote_addr consistent`, provisioning/server/nginx/ediary.conf.template). Phones
and schools come from many addresses; the harness's clients would all come from 127.0.0.1 and so
all land on ONE process, leaving the others idle. Linux routes the whole 127.0.0.0/8 to the
loopback interface, so each new connection to the front is bound, before it connects, to the next
address of a pool (127.1.0.1, 127.1.0.2, ...). There is no hook for this in the libraries the
clients use (websocket-client opens its socket itself), hence the patch of the gevent socket
class's `connect` in this process only; it touches nothing but connections to `ports`.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterable
from typing import Any

# 127.<network>.0.1 .. 127.<network>.63.250: more addresses than the city profile makes
# connections (its 1,000 kiosks enroll and connect, 3,000 parents log in and connect). Each of the
# harness's processes takes a network of its own (bench/district/crowd.py), so that no two of
# its clients share an address.
POOL = 16000


def address(n: int, network: int = 1) -> str:
    n %= POOL
    return f"127.{network}.{n // 250}.{n % 250 + 1}"


def spread_sources(ports: Iterable[int], network: int = 1) -> None:
    """From now on, every new IPv4 connection to 127.0.0.1:<port in ports> leaves from its own
    loopback address in 127.<network>.0.0/16. Call after gevent's monkey-patching (the class
    patched is gevent's)."""
    targets = {("127.0.0.1", port) for port in ports}
    numbers = itertools.count()
    cls: Any = socket.socket
    original = cls.connect

    def connect(self: socket.socket, target: Any) -> Any:
        if (
            self.family == socket.AF_INET
            and tuple(target) in targets
            and self.getsockname()[1] == 0  # not bound yet: the caller did not choose
        ):
            self.bind((address(next(numbers), network), 0))
        return original(self, target)

    cls.connect = connect
