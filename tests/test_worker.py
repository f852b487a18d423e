"""ediary's gunicorn worker (ediary/deploy/worker.py): its database waits let the process's other
requests run, and a quick shutdown signalled twice ends it cleanly.

gunicorn's master imports the worker class before the worker patches the standard library with
gevent. When that import brought the application in with it, psycopg chose its blocking C wait
there, and each database round trip stopped every socket of the process until it returned.

A terminal's Ctrl+C reaches the worker twice: its own SIGINT, then the master's SIGQUIT. Each
starts gunicorn's quick shutdown. gunicorn's own gevent worker runs each in a greenlet, and the
second one fires while the worker exits: a `SystemExit` traceback in the log. gunicorn's worker is
the control that shows this test sees it; ediary's must stop with exit code 0 and no traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ediary.cli.serving import WORKER_CLASS
from tests.servers import free_port, wait_for_port

pytestmark = pytest.mark.slow

HELLO = 'def app(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n'

LOCK = 73_101_526
# An application that imports psycopg, as ediary's does: `/wait` waits in the database for the
# lock the test holds, `/` answers at once.
WAITING = f"""
import os
import psycopg


def app(environ, start_response):
    if environ["PATH_INFO"] == "/wait":
        with psycopg.connect(os.environ["WAIT_DSN"], autocommit=True) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", [{LOCK}])
    start_response("200 OK", [])
    return [b"ok"]
"""


def _serve(
    tmp_path: Path, worker: str, app: str, **env: str
) -> tuple[subprocess.Popen[bytes], int]:
    port, log = free_port(), tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-k", worker, "-w", "1"]
    command += ["--bind", f"127.0.0.1:{port}", "--no-control-socket", "--chdir", str(tmp_path)]
    with log.open("wb") as output:
        master = subprocess.Popen(
            [*command, app], stdout=output, stderr=output, env={**os.environ, **env}
        )
    try:
        wait_for_port(port, timeout=30, process=master)
    except BaseException:
        master.kill()
        master.wait(10)
        raise
    return master, port


def _get(port: int, path: str = "/") -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        body: bytes = answer.read()
        return body


def test_a_request_waiting_in_the_database_lets_the_others_be_answered(
    tmp_path: Path, pg_server: str
) -> None:
    """While one request waits in PostgreSQL (for a lock this test holds), another is answered:
    a blocking wait would answer it only once the lock is released, so the test knows by order,
    not by time."""
    (tmp_path / "waiting.py").write_text(WAITING)
    # The same server as a libpq URL (its password too, if it has one).
    dsn = make_url(pg_server).set(drivername="postgresql").render_as_string(hide_password=False)
    engine = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    master, port = _serve(tmp_path, WORKER_CLASS, "waiting:app", WAIT_DSN=dsn)
    waiting: list[bytes] = []
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:lock)"), {"lock": LOCK})
            request = threading.Thread(target=lambda: waiting.append(_get(port, "/wait")))
            request.start()
            deadline = time.monotonic() + 30
            while not holder.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND classid = 0 AND objid = :lock AND objsubid = 1 AND NOT granted"
                ),
                {"lock": LOCK},
            ):
                assert time.monotonic() < deadline, "the request never reached the lock"
                time.sleep(0.05)
            assert _get(port) == b"ok"  # answered while the other request waits
            assert request.is_alive() and not waiting
            holder.execute(text("SELECT pg_advisory_unlock(:lock)"), {"lock": LOCK})
        request.join(30)
        assert waiting == [b"ok"]
    finally:
        engine.dispose()  # closes the holder's connection, if still open: the lock goes with it
        master.terminate()
        master.wait(30)


def test_importing_the_worker_class_imports_no_part_of_the_application() -> None:
    """What the master imports before gevent patches (the worker class) must not bring psycopg,
    SQLAlchemy or Flask with it: they would keep the unpatched standard library."""
    probe = "import sys, ediary.deploy.worker; print(sorted(m.split('.')[0] for m in sys.modules))"
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    for package in ("psycopg", "sqlalchemy", "flask", "socketio", "redis"):
        assert f"'{package}'" not in found
    assert "'gunicorn'" in found  # the probe imported the worker class


def test_an_entry_waiting_for_its_turn_lets_the_other_greenlets_run() -> None:
    """The turns of a process's entries (`receipt.ENTRY_WRITERS`) wait cooperatively in a
    process patched by gevent: an entry waiting for one does not stop the process's sockets,
    even with the module imported before gevent patched."""
    probe = """
from ediary.kiosks import receipt
from gevent import monkey
monkey.patch_all()
import gevent
turns = receipt._writers()
for _ in range(receipt.ENTRY_WRITERS):
    turns.acquire()
ticks = []
def tick():
    for _ in range(5):
        ticks.append(1)
        gevent.sleep(0.01)
gevent.spawn(tick)
print(turns.acquire(timeout=0.3), len(ticks))
"""
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert found == ["False", "5"]  # no turn within the timeout, and the other greenlet ran


@pytest.mark.parametrize(
    ("worker", "traceback"),
    [(WORKER_CLASS, False), ("gevent", True)],
    ids=["ediary", "gunicorn-gevent-control"],
)
def test_ctrl_c_reaching_the_worker_twice_ends_it_without_a_traceback(
    tmp_path: Path, worker: str, traceback: bool
) -> None:
    (tmp_path / "hello.py").write_text(HELLO)
    master, port = _serve(tmp_path, worker, "hello:app")
    try:
        assert _get(port) == b"ok"  # the worker serves: its signal handlers are set
        children = subprocess.run(
            ["pgrep", "-P", str(master.pid)], capture_output=True, text=True, check=True
        )
        (worker_pid,) = map(int, children.stdout.split())
        # Ctrl+C: the worker's SIGINT, the SIGQUIT the master sends it on its own SIGINT (sent
        # here at once, so that the two arrive together however busy the machine is), and
        # the master's SIGINT.
        os.kill(worker_pid, signal.SIGINT)
        os.kill(worker_pid, signal.SIGQUIT)
        master.send_signal(signal.SIGINT)
        assert master.wait(30) == 0
    finally:
        if master.poll() is None:
            master.kill()
            master.wait(10)
    text = (tmp_path / "gunicorn.log").read_text()
    assert f"Using worker: {worker}" in text
    assert f"[{worker_pid}] [INFO] Worker exiting" in text
    assert ("Traceback" in text) == traceback, text
