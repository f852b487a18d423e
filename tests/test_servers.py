"""The harness that starts real servers (tests/servers/) keeps its promises: a server serves once
started, its worker killed with SIGKILL comes back, a restart keeps the port, nothing it started
outlives a stop or a failed start, and no two servers share gunicorn's per-user control socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from tests.servers import (
    ROOT,
    RedisServer,
    Server,
    ServerConfig,
    ServerGroup,
    process,
    schema_only_sqlite,
    start_or_skip,
)
from tests.servers.process import alive

pytestmark = pytest.mark.slow


def _alive(pids: list[int]) -> list[int]:
    return alive(pids)


def _serves(server: Server, within: float = 60) -> bool:
    """The login page answers within `within` seconds: a worker that gunicorn forked anew imports
    the application first, which took over 10 s on a machine loaded by other work."""
    deadline = time.monotonic() + within
    while True:
        try:
            return requests.get(f"{server.url}/login", timeout=10).status_code == 200
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def database(tmp_path: Path) -> str:
    """The schema only: with the production settings the relay reads the journal at start-up."""
    return schema_only_sqlite(tmp_path)


@pytest.mark.parametrize("provisioned", [False, True], ids=["test-settings", "provisioned"])
def test_a_server_leaves_gunicorns_control_socket_alone(
    database: str, tmp_path: Path, provisioned: bool
) -> None:
    """gunicorn 27 opens a control socket at one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn):
    every server of a test run, and of the other runs on the machine, would take it from the
    one before and remove it when stopping."""
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run")}
    config = ServerConfig(database, provisioned=provisioned, env=env)
    with Server(config, tmp_path) as server:
        assert _serves(server)
        server.worker_pid()  # the workers are up: the master has opened the socket, if at all
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            assert not list(home.rglob("gunicorn.ctl")), server.logs()
            time.sleep(0.1)


def test_a_killed_worker_comes_back_and_a_restart_keeps_the_port(
    database: str, tmp_path: Path
) -> None:
    with Server(ServerConfig(database), tmp_path) as server:
        worker = server.worker_pid()
        assert server.kill_worker() == 1
        deadline = time.monotonic() + 30
        while server.worker_pids() in ([], [worker]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive([worker]) == [] and len(server.worker_pids()) == 1
        assert _serves(server)
        port, master = server.port, server.pid
        server.restart()
        assert server.port == port and server.pid != master and _serves(server)
        everything = [server.pid, *server.worker_pids()]
    assert not server.running
    assert _alive(everything) == []


def test_a_group_that_cannot_start_leaves_nothing_running(database: str, tmp_path: Path) -> None:
    broken = ServerConfig(database, app="tests.no_such_module:app")
    group = ServerGroup([ServerConfig(database), broken], tmp_path)
    try:
        with pytest.raises(RuntimeError, match="exited"):
            group.start()
        assert [server.running for server in group] == [False, False]
        assert "No module named 'tests.no_such_module'" in group[1].logs()
    finally:
        group.stop()


def test_redis_comes_back_on_its_port_after_a_stop(tmp_path: Path) -> None:
    server = start_or_skip(RedisServer(tmp_path))
    try:
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
        server.stop()
        with redis.Redis.from_url(server.url) as client, pytest.raises(redis.ConnectionError):
            client.ping()
        server.start()
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
    finally:
        server.stop()


def test_nothing_started_outlives_the_interpreter_that_started_it(tmp_path: Path) -> None:
    """A test that fails before its clean-up, or a benchmark that crashes, must not leave a
    server behind (a gunicorn master orphaned to init, holding its port for good)."""
    script = (
        "import sys\n"
        "from tests.servers import Process\n"
        "child = Process([sys.executable, '-c', 'import time; time.sleep(60)']).start()\n"
        "print(child.pid, flush=True)\n"
        "raise SystemExit(3)  # no stop(): as when a test fails before it\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    child = int(done.stdout)
    try:
        assert _alive([child]) == []
    finally:
        for pid in _alive([child]):
            os.kill(pid, signal.SIGKILL)


def test_a_port_the_kernel_offers_twice_is_handed_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As in the city drill where two servers got one port: the kernel offered it again as soon
    # as the probe that found it was closed.
    offered = iter([41001, 41001, 41001, 41002])

    class Probe:
        def __enter__(self) -> Probe:
            return self

        def __exit__(self, *_: Any) -> None:
            pass

        def bind(self, _address: Any) -> None:
            self.port = next(offered)

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(process, "_handed_out", set())
    monkeypatch.setattr(socket, "socket", Probe)
    assert [process.free_port(), process.free_port()] == [41001, 41002]


def test_a_handed_out_port_is_free_to_bind() -> None:
    port = process.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert port not in {process.free_port() for _ in range(20)}
