"""A loopback TCP proxy the harness can cut: one kiosk's network.

Like tests/kiosk/proxy.py (which uses select(), limited to descriptors below 1024: the full
profile's process holds thousands of sockets), but with a greenlet per direction. "reset"
closes every connection and refuses new ones until `restore()`.
"""

from __future__ import annotations

import contextlib
import socket

import gevent


class NetCut:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port: int = self.listener.getsockname()[1]
        self.up = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.accepted = 0
        self.greenlet = gevent.spawn(self._accept)

    def cut(self) -> None:
        self.up = False
        pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            _close(a)
            _close(b)

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.greenlet.kill(block=False)
        _close(self.listener)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            self.accepted += 1
            self.pairs.append((client, server))
            gevent.spawn(self._pipe, client, server)
            gevent.spawn(self._pipe, server, client)

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
