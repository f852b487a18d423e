"""python-socketio's client managers with an index from a socket to its rooms.

The library finds a socket's rooms by testing every room of the namespace (`basic_disconnect`,
`get_rooms`): with thousands of parents, each in a room of its own, of its user and of each
child, every disconnect scanned (and copied) some ten thousand rooms. A profile of a server with
3,000 parent sockets (py-spy, `bench/run.py`) spent 29 % of its CPU there when those sockets
went away, as phones' sockets do all day. The index makes a disconnect cost what its socket's
own rooms cost. Written here because the library has no such option; the rooms themselves stay
the library's (`self.rooms`), and tests/realtime/test_manager.py checks that every operation
leaves them as the library's own manager does.
"""

from __future__ import annotations

from typing import Any

import socketio


class RoomIndex:
    """Keeps `(namespace, sid) → rooms` beside `self.rooms`, for the two lookups by socket."""

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms_of_sid: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self.rooms_of_sid.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        rooms = self.rooms_of_sid.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of_sid[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **_kwargs: Any) -> None:
        # As the library's, but the socket's rooms come from the index, not from a scan.
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of_sid.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self.rooms_of_sid.get((namespace, sid), ()) if room is not None]


class Manager(RoomIndex, socketio.Manager):
    """One process (no Redis)."""


class RedisManager(RoomIndex, socketio.RedisManager):
    """Several processes joined by Redis."""


def client_manager(redis_url: str | None) -> socketio.Manager:
    """The manager Flask-SocketIO would make for `redis_url` (its channel), with the index."""
    if redis_url:
        return RedisManager(redis_url, channel="flask-socketio")
    return Manager()
