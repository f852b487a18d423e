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
from typing import Any

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


def _probe(script: str, pg_server: str, *args: str) -> dict[str, Any]:
    """What `script` prints, run under gevent in a process of its own against `pg_server`."""
    dsn = pg_server.replace("postgresql+psycopg://", "postgresql://")
    done = subprocess.run(
        [sys.executable, "-c", script, dsn, *args],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_slow_round_trip_under_the_lock_lets_the_process_run_again(pg_server: str) -> None:
    found = _probe(PROBE, pg_server, "0.6")
    assert (found["value"], found["after"]) == (42, 7)  # the statement and the next are whole
    during = found["during"]
    assert isinstance(during, list)
    # Exclusive at first: nothing else ran for the bound ...
    assert during and during[0] >= EXCLUSIVE_SECONDS * 0.9
    # ... then the other greenlets ran while the database was slow (a tick each 10 ms).
    assert len(during) >= 10


COOPERATIVE = """
from gevent import monkey

monkey.patch_all()

import json, sys, time

import gevent
import greenlet
from psycopg import generators, waiting

from ediary import db

connection = db.ExclusiveWaits.connect(sys.argv[1])
ticks = []


def tick():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.01)


def to_hub():
    # Counts how often this greenlet hands the process to gevent's hub while `trace` is set.
    switches = []

    def trace(event, args):
        if event == "switch" and args[1] is gevent.get_hub():
            switches.append(1)

    return switches, trace


def executemany(rows):
    switches, trace = to_hub()
    previous = greenlet.settrace(trace)
    try:
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO probe VALUES (%s, %s)", rows)
    finally:
        greenlet.settrace(previous)
    return len(switches)


gevent.spawn(tick)
connection.execute("CREATE TEMP TABLE probe (n integer, label text)")
rows = [(n, "x" * 40) for n in range(200)]
found = {"ready_first": executemany(rows)}
# psycopg's own wait under gevent, as every wait was before `wait_ready_first`.
db._gevent_patched = lambda: False
found["wait_poll"] = executemany(rows)
db._gevent_patched = lambda: True
found["rows"] = connection.execute("SELECT count(*), sum(n) FROM probe").fetchone()

start = time.monotonic()
found["slept"] = connection.execute("SELECT pg_sleep(0.3), 42").fetchone()[1]
found["ticks"] = len([t for t in ticks if start < t < time.monotonic()])

# A timeout: psycopg's wait timeout, and the generator goes on where it was.
connection.pgconn.send_query(b"SELECT pg_sleep(0.4), 7")
gen = generators.execute(connection.pgconn)
start = time.monotonic()
try:
    db.wait_ready_first(gen, connection.pgconn.socket, timeout=0.1)
    found["timed_out"] = None
except Exception as error:
    found["timed_out"] = [type(error).__name__, round(time.monotonic() - start, 2)]
results = db.wait_ready_first(gen, connection.pgconn.socket)
found["resumed"] = results[-1].get_value(0, 1).decode()
print(json.dumps(found))
"""


def test_a_cooperative_wait_goes_to_the_hub_only_when_the_socket_is_not_ready(
    pg_server: str,
) -> None:
    """Under gevent a wait that does not hold the journal's lock yields to the process's other
    greenlets, but only when the database has not answered yet (`db.wait_ready_first`): an
    executemany in a pipeline no longer hands the process to gevent's hub at each of its steps."""
    found = _probe(COOPERATIVE, pg_server)
    assert found["rows"] == [400, 2 * sum(range(200))]  # both executemanys, whole
    assert found["ready_first"] * 5 <= found["wait_poll"], found
    # A slow statement still lets the others run: a tick each 10 ms during 0.3 s.
    assert (found["slept"], found["ticks"] >= 10) == (42, True), found
    assert found["timed_out"][0] == "_WaitTimeout" and found["timed_out"][1] < 0.35, found
    assert found["resumed"] == "7"
