"""A server process whose worker dies stops listening at once (provisioning/gunicorn.conf.py,
`child_exit`), and nginx, as render-nginx.sh renders it, passes the kiosks' connections on to the
other kiosks' process instead of queueing them behind a worker that is still booting.

Issue 19 item 3: kiosks back within 10 s after a kill -9 of their process (the district drill's
`kill9` measures it; bench/README.md)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.provisioning.conftest import require_tools
from tests.servers import (
    Nginx,
    Server,
    ServerConfig,
    ServerGroup,
    free_port,
    schema_only_sqlite,
    self_signed,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def database(tmp_path: Path) -> str:
    """The schema only: with the production settings the relay reads the journal at start-up."""
    return schema_only_sqlite(tmp_path)


def _kiosks_process(database: str, *, systemd: bool = True) -> ServerConfig:
    """A kiosks' process as the systemd unit runs it (or, not `systemd`, as `ediary serve`)."""
    env = {"EDIARY_SOCKETS": "kiosks"}
    if systemd:
        env["EDIARY_EXIT_WITH_WORKER"] = "1"
    return ServerConfig(database, provisioned=True, env=env, name="kiosks")


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        try:
            probe.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


def _upstreams(log: str) -> list[str]:
    """The upstream addresses nginx tried for each answered handshake on the kiosks' path."""
    return re.findall(r'"GET /kiosk/socket\.io/\S* HTTP/1\.1" 200 .* upstream=(.+?) rt=', log)


def _exited(server: Server, within: float = 15) -> int | None:
    deadline = time.monotonic() + within
    while server.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.popen is not None
    return server.popen.poll()


def test_a_killed_worker_takes_its_process_and_port_down(database: str, tmp_path: Path) -> None:
    with Server(_kiosks_process(database), tmp_path) as server:
        server.kill_worker()
        # Exits with a failure, which systemd's Restart=always restarts (and counts).
        assert _exited(server) == 1, server.logs()
        assert "died: the process stops" in server.logs()
        assert _refused(server.port)


def test_without_systemd_to_restart_it_the_process_gets_a_new_worker(
    database: str, tmp_path: Path
) -> None:
    """`ediary serve` and the demo have nothing that would start a stopped process again."""
    with Server(_kiosks_process(database, systemd=False), tmp_path) as server:
        worker = server.worker_pid()
        server.kill_worker()
        deadline = time.monotonic() + 60
        while server.worker_pids() in ([], [worker]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.running and len(server.worker_pids()) == 1, server.logs()
        assert not _refused(server.port)
    assert "died: the process stops" not in server.logs()


def test_a_stop_and_a_reload_do_not_count_as_a_death(database: str, tmp_path: Path) -> None:
    with Server(_kiosks_process(database), tmp_path) as server:
        old = server.worker_pid()
        os.kill(server.pid, signal.SIGHUP)  # gunicorn replaces its worker: the process stays
        deadline = time.monotonic() + 60
        while (old in server.worker_pids() or not server.worker_pids()) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert server.running and len(server.worker_pids()) == 1, server.logs()
        assert server.worker_pid() != old
        assert not _refused(server.port)
        server.stop()  # SIGTERM: the master closes its port first, then stops its worker
        assert server.popen is not None and server.popen.returncode == 0, server.logs()
    assert "died: the process stops" not in server.logs()


def test_through_nginx_a_kiosk_goes_to_the_other_process_at_once(
    database: str, tmp_path: Path
) -> None:
    """The kill -9 of a kiosks' worker: every handshake on the kiosks' path is answered at
    once, by the other kiosks' process, while the first is down (no wait for its new worker)."""
    require_tools("nginx", "openssl")
    with ServerGroup([_kiosks_process(database)] * 2, tmp_path) as group:
        dying, other = group[0], group[1]
        cert, key = self_signed(tmp_path, "127.0.0.1")
        with Nginx(tmp_path, [other.port], cert, key, kiosk_ports=group.ports) as nginx:
            dying.kill_worker()
            assert _exited(dying) == 1
            answered = []
            for _ in range(20):  # least_conn: the closed process first, then the other
                began = time.monotonic()
                reply = requests.get(
                    f"{nginx.url}/kiosk/socket.io/",
                    params={"EIO": "4", "transport": "polling"},
                    verify=str(cert),
                    timeout=10,
                )
                answered.append(time.monotonic() - began)
                assert reply.status_code == 200 and reply.text.startswith("0{"), reply.text
            assert max(answered) < 2, answered
            # nginx writes a request's log line after its response: the last may lag a little.
            deadline = time.monotonic() + 10
            while len(_upstreams(nginx.access_log.read_text())) < 20:
                assert time.monotonic() < deadline, nginx.access_log.read_text()
                time.sleep(0.05)
            upstreams = _upstreams(nginx.access_log.read_text())
    assert len(upstreams) == 20
    # Each was refused by the dead process's closed port or went straight to the other one.
    assert {u.split(", ")[-1] for u in upstreams} == {f"127.0.0.1:{other.port}"}
    assert any(f"127.0.0.1:{dying.port}" in u for u in upstreams)


# An application that takes 2 s to import and says when it has: the worker's import of the real
# one takes 1.5-1.8 s on a quiet machine.
SLOW_APP = """
import os, pathlib, time
time.sleep(2)
pathlib.Path(os.environ["LOADED_MARKER"]).write_text("loaded")


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.mark.parametrize("systemd", [True, False], ids=["systemd", "ediary-serve"])
def test_a_process_systemd_restarts_listens_only_once_its_application_is_loaded(
    tmp_path: Path, systemd: bool
) -> None:
    """gunicorn.conf.py's `preload_app` where the process restarts after its worker died: a
    connection accepted by a port whose worker is still importing would wait for it (least_conn
    sends kiosks to that empty process: bench/README.md, the city's kill9). `ediary serve` keeps
    gunicorn's default, the port first, which the second case shows the test can tell apart."""
    (tmp_path / "slow_app.py").write_text(SLOW_APP)
    marker = tmp_path / "loaded"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "EDIARY_EXIT_WITH_WORKER"}
    env |= {"EDIARY_BIND": f"127.0.0.1:{port}", "LOADED_MARKER": str(marker)}
    if systemd:
        env["EDIARY_EXIT_WITH_WORKER"] = "1"
    config = Path(__file__).parents[2] / "provisioning" / "gunicorn.conf.py"
    with (tmp_path / "gunicorn.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(config), "slow_app:app"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while _refused(port):
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "never listened"
            time.sleep(0.02)
        loaded_when_listening = marker.exists()
    finally:
        process.terminate()
        process.wait(15)
    assert loaded_when_listening is systemd
