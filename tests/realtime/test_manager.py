"""The client manager's index from a socket to its rooms (ediary/realtime/manager.py) leaves the
rooms exactly as python-socketio's own manager does, through any mix of operations, and finds a
disconnecting socket's rooms without looking at anybody else's."""

from __future__ import annotations

import itertools
import json
import random
from types import SimpleNamespace
from typing import Any

import pytest
import socketio

from ediary.realtime import manager

NAMESPACES = ("/live", "/kiosk")


def _server() -> Any:
    ids = itertools.count()
    return SimpleNamespace(
        packet_class=SimpleNamespace(json=json),
        eio=SimpleNamespace(generate_id=lambda: f"s{next(ids)}"),
    )


def _pair() -> tuple[socketio.Manager, manager.Manager]:
    theirs, ours = socketio.Manager(), manager.Manager()
    theirs.set_server(_server())
    ours.set_server(_server())  # the same ids in the same order
    return theirs, ours


def _state(m: socketio.Manager) -> dict[str, dict[Any, dict[str, Any]]]:
    return {
        ns: {room: dict(members) for room, members in rooms.items()}
        for ns, rooms in m.rooms.items()
    }


@pytest.mark.parametrize("seed", range(20))
def test_every_operation_leaves_the_rooms_as_the_library_does(seed: int) -> None:
    rng = random.Random(seed)
    theirs, ours = _pair()
    sockets: list[tuple[str, str]] = []
    rooms = [f"pupil:{n}" for n in range(6)] + [f"user:{n}" for n in range(4)]
    for step in range(300):
        action = rng.choice(["connect", "enter", "enter", "leave", "disconnect", "close"])
        if action == "connect" or not sockets:
            namespace = rng.choice(NAMESPACES)
            eio_sid = f"e{step}"
            sid = theirs.connect(eio_sid, namespace)
            assert ours.connect(eio_sid, namespace) == sid
            sockets.append((namespace, sid))
        elif action == "enter":
            namespace, sid = rng.choice(sockets)
            room = rng.choice(rooms)
            theirs.enter_room(sid, namespace, room)
            ours.enter_room(sid, namespace, room)
        elif action == "leave":
            namespace, sid = rng.choice(sockets)
            room = rng.choice(rooms)
            theirs.leave_room(sid, namespace, room)
            ours.leave_room(sid, namespace, room)
        elif action == "close":
            namespace, room = rng.choice(NAMESPACES), rng.choice(rooms)
            theirs.close_room(room, namespace)
            ours.close_room(room, namespace)
        else:
            namespace, sid = sockets.pop(rng.randrange(len(sockets)))
            theirs.pre_disconnect(sid, namespace)
            ours.pre_disconnect(sid, namespace)
            theirs.disconnect(sid, namespace)
            ours.disconnect(sid, namespace)
        assert _state(ours) == _state(theirs)
        assert ours.pending_disconnect == theirs.pending_disconnect
        for namespace, sid in sockets:
            assert sorted(ours.get_rooms(sid, namespace)) == sorted(
                theirs.get_rooms(sid, namespace)
            )
    for namespace, sid in sockets:
        ours.disconnect(sid, namespace)
    assert ours.rooms_of_sid == {}  # nothing kept for sockets that are gone


def test_a_disconnect_looks_only_at_its_own_rooms() -> None:
    """Two thousand other sockets, each in rooms of its own: the disconnect touches none."""
    _theirs, ours = _pair()
    for n in range(2_000):
        sid = ours.connect(f"e{n}", "/live")
        ours.enter_room(sid, "/live", f"user:{n}")
    leaving = ours.connect("leaving", "/live")
    ours.enter_room(leaving, "/live", "pupil:1")
    own = {"pupil:1", leaving}  # and the room of every connected socket (None), left too
    others = {room: members for room, members in ours.rooms["/live"].items() if room not in own}
    looked: list[object] = []

    class Watched(dict):
        def __contains__(self, key: object) -> bool:
            looked.append(key)
            return super().__contains__(key)

        def items(self) -> Any:
            looked.append("items")
            return super().items()

        def copy(self) -> Any:
            looked.append("copy")
            return super().copy()

    ours.rooms["/live"] = Watched(ours.rooms["/live"])
    ours.disconnect(leaving, "/live")
    assert own.isdisjoint(ours.rooms["/live"])
    assert leaving not in ours.rooms["/live"][None]
    assert looked.count("copy") == 0 and looked.count("items") == 0  # no scan of the rooms
    assert all(ours.rooms["/live"][room] is members for room, members in others.items())


def test_the_app_uses_the_indexed_manager(app: Any) -> None:
    from ediary.extensions import socketio as ours

    assert isinstance(ours.server.manager, manager.RoomIndex)
