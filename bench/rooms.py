"""What a socket's disconnect costs the Socket.IO client manager, python-socketio's and ours
(ediary/realtime/manager.py), with N parents' sockets each in its own room, its user's room and
its child's room, as on a people's process. Prints the median µs per disconnect while every
socket goes away (a process's parents after a network blip), one run, in process.

    python -m bench.rooms [--sockets 3000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from types import SimpleNamespace

import socketio

from ediary.realtime.manager import Manager


def _disconnect_all(manager: socketio.Manager, sockets: int) -> list[float]:
    ids = itertools.count()
    manager.set_server(
        SimpleNamespace(
            packet_class=SimpleNamespace(json=json),
            eio=SimpleNamespace(generate_id=lambda: f"s{next(ids)}"),
        )
    )
    sids = []
    for n in range(sockets):
        sid = manager.connect(f"e{n}", "/live")
        manager.enter_room(sid, "/live", f"user:{n}")
        manager.enter_room(sid, "/live", f"pupil:{n // 2}")
        sids.append(sid)
    took = []
    for sid in sids:
        began = time.perf_counter()
        manager.pre_disconnect(sid, "/live")
        manager.disconnect(sid, "/live")
        took.append((time.perf_counter() - began) * 1e6)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=3000)
    args = parser.parse_args()
    for label, manager in (("python-socketio", socketio.Manager()), ("ediary", Manager())):
        took = _disconnect_all(manager, args.sockets)
        print(
            f"{label:<16} {args.sockets} sockets: median {statistics.median(took):8.1f} µs, "
            f"first {took[0]:8.1f} µs, all {sum(took) / 1000:8.1f} ms per disconnect storm"
        )


if __name__ == "__main__":
    main()
