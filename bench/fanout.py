"""What sending one journal event to N sockets costs the relay: an emit per socket (python-
socketio's `emit`, as the relay sent before) against its packet encoded once
(`Relay.send_to_all`). A pupil's event goes to each of its guardians' devices and to its
school's staff. Engine.IO's send is left out (replaced by a list's append): what is measured is
the Python that both ways run before it. Prints the median µs per event of 7 runs, in turn,
in process.

    python -m bench.fanout [--sockets 1,2,3,5,10]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import timeit
import uuid
from typing import Any

from ediary import create_app
from ediary.config import Config
from ediary.extensions import socketio
from ediary.realtime.relay import Relay
from ediary.realtime.rooms import LIVE

# An attendance event as the relay sends it (its wire form): the most frequent event.
MESSAGE: dict[str, Any] = {
    "id": 1234567,
    "type": "attendance.recorded",
    "at": "2026-12-07T07:01:02.345678+00:00",
    "pupil_id": 40123,
    "lesson_id": 987654,
    "date": "2026-12-07",
    "slot_number": 1,
    "subject": "Matematyka",
    "code": "nb",
    "name": "nieobecność",
    "counts_as": "absent",
    "excused": False,
    "previous_code": "ob",
}
NUMBER = 2000  # events per run


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sockets", default="1,2,3,5,10", help="recipients per event")
    args = parser.parse_args()
    app = create_app(Config(DATABASE_URL="sqlite://", SECRET_KEY=uuid.uuid4().hex, REDIS_URL=None))
    server = socketio.server
    sent: list[Any] = []
    server._send_eio_packet = lambda _eio_sid, pkt: sent.append(pkt)
    relay = Relay(app, socketio, None)
    sids = [server.manager.connect(f"eio-{n}", LIVE) for n in range(max(_counts(args.sockets)))]

    def each(to: list[str]) -> None:
        for sid in to:
            server.emit("event", MESSAGE, to=sid, namespace=LIVE, ignore_queue=True)

    def once(to: list[str]) -> None:
        relay.send_to_all(LIVE, to, "event", MESSAGE)

    print(f"µs per event, median of 7 runs of {NUMBER:,} events each")
    print(f"{'sockets':>7} {'an emit each':>13} {'encoded once':>13}")
    for count in _counts(args.sockets):
        to = sids[:count]
        runs: dict[str, list[float]] = {"each": [], "once": []}
        for _run in range(7):
            for name, way in (("each", each), ("once", once)):
                took = timeit.timeit(functools.partial(way, to), number=NUMBER)
                runs[name].append(took / NUMBER * 1e6)
                sent.clear()
        print(
            f"{count:>7} {statistics.median(runs['each']):>13.1f}"
            f" {statistics.median(runs['once']):>13.1f}"
        )


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


if __name__ == "__main__":
    main()
