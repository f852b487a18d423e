"""Under the journal's lock a connection's round trips keep the server process to themselves
(`db.ExclusiveWaits`), but for `EXCLUSIVE_SECONDS` at most: a database that stalls under the lock
stalls its writers, not every parent's and kiosk's socket in the process.

Run under gevent, in a process of its own, as the server runs: a greenlet ticks every 10 ms
while the connection, exclusive, waits for a slow statement.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ediary.db import EXCLUSIVE_SECONDS

PROBE = """
from gevent import monkey

monkey.patch_all()

import json, sys, time

import gevent

from ediary.db import ExclusiveWaits, set_exclusive

connection = ExclusiveWaits.connect(sys.argv[1])
ticks = []


def tick():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.01)


gevent.spawn(tick)
gevent.sleep(0.05)
set_exclusive(connection, True)
start = time.monotonic()
value = connection.execute("SELECT pg_sleep(%s), 42" % float(sys.argv[2])).fetchone()[1]
end = time.monotonic()
during = [t - start for t in ticks if start < t < end]
after = connection.execute("SELECT 7").fetchone()[0]
print(json.dumps({"value": value, "after": after, "during": during}))
"""


def _probe(pg_server: str, seconds: float) -> dict[str, object]:
    dsn = pg_server.replace("postgresql+psycopg://", "postgresql://")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, dsn, str(seconds)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_a_slow_round_trip_under_the_lock_lets_the_process_run_again(pg_server: str) -> None:
    found = _probe(pg_server, 0.6)
    assert (found["value"], found["after"]) == (42, 7)  # the statement and the next are whole
    during = found["during"]
    assert isinstance(during, list)
    # Exclusive at first: nothing else ran for the bound ...
    assert during and during[0] >= EXCLUSIVE_SECONDS * 0.9
    # ... then the other greenlets ran while the database was slow (a tick each 10 ms).
    assert len(during) >= 10
