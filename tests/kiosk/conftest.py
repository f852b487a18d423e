"""End-to-end kiosk fixtures: a world in a SQLite file, a real server process, real agent
processes (`python -m kiosk`), a loopback proxy between them, and a headless Chromium."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.chromium import launch
from tests.kiosk.proxy import Proxy
from tests.servers import ROOT, Process, Server, free_port, running_server

# The tests never read a machine's real kiosk configuration; a lost acknowledgement is given up
# on after 2 s instead of 10, and retries wait at most 1 s.
AGENT_ENV = {
    "EDIARY_KIOSK_CONFIG": "/nonexistent/kiosk.toml",
    "EDIARY_KIOSK_CALL_TIMEOUT_SECONDS": "2",
    "EDIARY_KIOSK_RETRY_MAX_SECONDS": "1",
}


def world_command(db: Path, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.kiosk.world", str(db), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, f"world {' '.join(args)} failed:\n{out.stderr[-3000:]}"
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@dataclass
class Site:
    """A school: its database file, its server process, the world's ids."""

    db: Path
    server: Server
    ids: dict[str, Any]
    tmp: Path

    def code(self) -> str:
        return str(world_command(self.db, "code")["code"])

    def revoke(self) -> None:
        world_command(self.db, "revoke")

    def world(self, *args: str) -> dict[str, Any]:
        return world_command(self.db, *args)

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()


@dataclass
class AgentProcess:
    """`python -m kiosk run` as a child process, on its own port and state directory."""

    state_dir: Path
    server_url: str
    port: int = field(default_factory=free_port)
    idle_lock: float = 600.0
    env: dict[str, str] = field(default_factory=dict)
    process: Process | None = None
    log: Path | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enroll(self, server_url: str, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "kiosk",
                "enroll",
                "--server",
                server_url,
                "--code",
                code,
                "--state-dir",
                str(self.state_dir),
            ],
            cwd=ROOT,
            env={**os.environ, **AGENT_ENV},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self) -> AgentProcess:
        self.starts += 1
        self.log = self.state_dir.parent / f"agent-{self.port}-{self.starts}.log"
        command = [sys.executable, "-m", "kiosk", "run", "--server", self.server_url]
        command += ["--state-dir", str(self.state_dir), "--port", str(self.port)]
        command += ["--idle-lock", str(self.idle_lock), "-v"]
        self.process = Process(
            command, log=self.log, env={**AGENT_ENV, **self.env}, port=self.port
        ).start()
        return self

    def kill(self) -> None:
        """kill -9: no chance to flush or say goodbye."""
        assert self.process is not None
        self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def status(self) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-m", "kiosk", "status", "--state-dir", str(self.state_dir)],
            cwd=ROOT,
            env={**os.environ, **AGENT_ENV},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return dict(json.loads(out.stdout))

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met after {timeout}s")
        time.sleep(interval)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("kiosk-site")
    db = tmp / "ediary.db"
    ids = world_command(db, "build")
    with running_server(f"sqlite:///{db}", tmp) as server:
        yield Site(db=db, server=server, ids=ids, tmp=tmp)


@pytest.fixture
def make_agent(site: Site, tmp_path: Path) -> Iterator[Callable[..., AgentProcess]]:
    agents: list[AgentProcess] = []

    def make(
        server_url: str | None = None, idle_lock: float = 600.0, name: str = "a"
    ) -> AgentProcess:
        agent = AgentProcess(
            tmp_path / f"state-{name}", server_url or site.server.url, idle_lock=idle_lock
        )
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.stop()


@pytest.fixture
def proxy(site: Site) -> Iterator[Proxy]:
    p = Proxy(site.server.port)
    yield p
    p.close()


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    chromium = launch(playwright)
    yield chromium
    chromium.close()


def local_get(agent: AgentProcess, path: str, **headers: str) -> requests.Response:
    return requests.get(agent.url + path, headers=headers, timeout=10)


class Screen:
    """Drives the agent's local API exactly as the page's script does (token, Origin, JSON)."""

    def __init__(self, agent: AgentProcess) -> None:
        self.base = agent.url
        html = requests.get(self.base + "/", timeout=10).text
        token = html.split('name="kiosk-screen" content="')[1].split('"')[0]
        self.headers = {"Origin": self.base, "X-Kiosk-Screen": token}

    def state(self) -> dict[str, Any]:
        response = requests.get(self.base + "/api/state", headers=self.headers, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def post(self, path: str, data: dict[str, Any]) -> requests.Response:
        return requests.post(self.base + path, json=data, headers=self.headers, timeout=30)

    def ok(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        response = self.post(path, data)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_online(self, timeout: float = 15.0) -> None:
        wait_until(lambda: self.state()["connection"] == "online", timeout)
