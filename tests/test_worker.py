"""A quick shutdown signalled twice ends ediary's gunicorn worker cleanly (ediary/deploy/worker.py).

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
import urllib.request
from pathlib import Path

import pytest

from ediary.cli.serving import WORKER_CLASS
from tests.servers import free_port, wait_for_port

pytestmark = pytest.mark.slow

HELLO = 'def app(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n'


@pytest.mark.parametrize(
    ("worker", "traceback"),
    [(WORKER_CLASS, False), ("gevent", True)],
    ids=["ediary", "gunicorn-gevent-control"],
)
def test_ctrl_c_reaching_the_worker_twice_ends_it_without_a_traceback(
    tmp_path: Path, worker: str, traceback: bool
) -> None:
    (tmp_path / "hello.py").write_text(HELLO)
    port, log = free_port(), tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-k", worker, "-w", "1"]
    command += ["--bind", f"127.0.0.1:{port}", "--no-control-socket", "--chdir", str(tmp_path)]
    with log.open("wb") as output:
        master = subprocess.Popen([*command, "hello:app"], stdout=output, stderr=output)
    try:
        wait_for_port(port, timeout=30, process=master)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
            assert answer.read() == b"ok"  # the worker serves: its signal handlers are set
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
    text = log.read_text()
    assert f"Using worker: {worker}" in text
    assert f"[{worker_pid}] [INFO] Worker exiting" in text
    assert ("Traceback" in text) == traceback, text
