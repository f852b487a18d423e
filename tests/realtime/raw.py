"""Socket.IO spoken by hand over a WebSocket, frame by frame, as an attacker's script would.

python-socketio's client refuses to send what a hostile client sends (a reserved event name, an
object as the name), so these tests write the Engine.IO/Socket.IO frames themselves: `4` is an
Engine.IO message, then the Socket.IO packet type (`0` connect, `2` event, `3` ack, `4` connect
error), the namespace, an optional ack id, and the JSON.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import websocket


class RawSocket:
    def __init__(self, base_url: str, namespace: str, *, cookie: str | None = None) -> None:
        url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        headers = [f"Cookie: {cookie}"] if cookie else []
        self.ws = websocket.create_connection(url, header=headers, origin=base_url, timeout=10)
        opening = self.ws.recv()
        assert isinstance(opening, str) and opening.startswith("0"), opening
        self.namespace = namespace
        self.changed = threading.Condition()
        self.acks: dict[int, list[Any]] = {}
        # (name, arguments, time.monotonic() of arrival) of what the server pushed
        self.events: list[tuple[Any, list[Any], float]] = []
        self.connected: Any = None  # the connect answer: {"sid"} or the connect_error's data
        self.closed = False
        self._next_id = 100
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def connect(self, auth: Any = None) -> dict[str, Any]:
        self.send(f"40{self.namespace}," + ("" if auth is None else json.dumps(auth)))
        assert self.wait(lambda s: s.connected is not None, 10), "no answer to the connect"
        return dict(self.connected)

    def send(self, frame: str) -> None:
        self.ws.send(frame)

    def emit(self, *data: Any) -> int:
        """An event asking for an acknowledgement; `data` is the whole array: name, arguments."""
        ack_id = self._next_id
        self._next_id += 1
        self.send(f"42{self.namespace},{ack_id}" + json.dumps(list(data)))
        return ack_id

    def call(self, *data: Any, timeout: float = 10.0) -> Any:
        ack_id = self.emit(*data)
        return self.ack(ack_id, timeout)

    def ack(self, ack_id: int, timeout: float = 10.0) -> Any:
        assert self.wait(lambda s: ack_id in s.acks, timeout), f"no acknowledgement {ack_id}"
        answer = self.acks[ack_id]
        return answer[0] if answer else None

    def pushed(self, name: str) -> list[Any]:
        with self.changed:
            return [args[0] if args else None for event, args, _at in self.events if event == name]

    def arrivals(self, name: str) -> list[float]:
        with self.changed:
            return [at for event, _args, at in self.events if event == name]

    def wait(self, predicate: Callable[[RawSocket], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()

    def _read(self) -> None:
        while True:
            try:
                frame = self.ws.recv()
            except Exception:  # closed by either side: the test looks at `closed`
                with self.changed:
                    self.closed = True
                    self.changed.notify_all()
                return
            if frame == "2":  # Engine.IO ping
                with contextlib.suppress(Exception):
                    self.ws.send("3")
            elif isinstance(frame, str) and frame.startswith("4"):
                with self.changed:
                    self._packet(frame[1:])
                    self.changed.notify_all()

    def _packet(self, packet: str) -> None:
        kind, body = packet[0], packet[1:]
        if not body.startswith(self.namespace + ","):
            return
        body = body[len(self.namespace) + 1 :]
        if kind in "04":
            self.connected = json.loads(body) if body else {}
        elif kind == "1":
            self.closed = True
        elif kind == "2":
            name, *args = json.loads(body)
            self.events.append((name, args, time.monotonic()))
        elif kind == "3":
            digits = len(body) - len(body.lstrip("0123456789"))
            self.acks[int(body[:digits])] = json.loads(body[digits:])
