"""ediary's server processes: gunicorn with the gevent worker, one worker per process, on loopback;
one of them, or N of them joined by Redis as production runs them (DESIGN.md)."""

from __future__ import annotations

import http.client
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from ediary.cli.serving import WORKER_CLASS
from tests.servers.process import ROOT, Process, Started, free_port

PROVISIONED = ROOT / "provisioning" / "gunicorn.conf.py"
TEST_SECRET_KEY = "test-server-secret-0123456789abcdef"
# Password hashing at its cheapest: a test logs in dozens of times, a benchmark thousands.
CHEAP_HASHING = {
    "EDIARY_ARGON2_TIME_COST": "1",
    "EDIARY_ARGON2_MEMORY_KIB": "8",
    "EDIARY_ARGON2_PARALLELISM": "1",
}


@dataclass(frozen=True)
class ServerConfig:
    """What one server process runs: the WSGI app, gunicorn's settings, the environment.

    `provisioned`: provisioning/gunicorn.conf.py, the production settings (the relay started
    with the worker, its garbage-collection tuning, 20,000 connections, keep-alive 5 s); else
    gunicorn's defaults with the gevent worker, as most tests have always run. `env` is applied
    last, over the harness's defaults (a test secret key, cheap hashing, the origins).
    """

    database_url: str | None
    app: str = "ediary.wsgi:app"
    provisioned: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    name: str = "server"  # the log's name: <name>-<port>.log
    nice: int = 0  # the niceness it runs at, as a systemd unit's Nice= sets it


class Server(Process):
    """`gunicorn -k <ediary's worker> -w 1 <app>` on 127.0.0.1:`port`, logging to `log_dir`."""

    port: int
    log: Path

    def __init__(
        self,
        config: ServerConfig,
        log_dir: Path,
        *,
        port: int | None = None,
        origins: Sequence[str] = (),
        redis_url: str | None = None,
    ) -> None:
        self.config = config
        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            "EDIARY_BIND": f"127.0.0.1:{port}",
            "EDIARY_SECRET_KEY": TEST_SECRET_KEY,
            # Engine.IO checks the Origin header a browser sends: this process's own address,
            # and those of the others of its group (a page of one may connect to another).
            "EDIARY_SOCKETIO_ORIGINS": ",".join(dict.fromkeys([self.url, *origins])),
            "EDIARY_GRACEFUL_TIMEOUT": "2",
            **CHEAP_HASHING,
        }
        if config.database_url is not None:
            env["EDIARY_DATABASE_URL"] = config.database_url
        if redis_url is not None:
            env["EDIARY_REDIS_URL"] = redis_url
        env.update(config.env)
        command = [sys.executable, "-m", "gunicorn"]
        if config.nice:
            command = ["nice", "-n", str(config.nice), *command]  # nice execs: the same pid
        if config.provisioned:
            command += ["-c", str(PROVISIONED)]  # binds to EDIARY_BIND
        else:
            command += ["-k", WORKER_CLASS, "-w", "1", "--bind", env["EDIARY_BIND"]]
            command += ["--graceful-timeout", "2"]
        # gunicorn 27 opens a control socket at one path per user: every server of a test run
        # would take it from the one before and remove it on stopping.
        command += ["--no-control-socket", config.app]
        super().__init__(
            command,
            log=log_dir / f"{config.name}-{port}.log",
            env=env,
            port=port,
            stop_timeout=15.0,
        )

    def ready(self) -> None:
        """Until the worker answers a request. The master listens before its worker has booted,
        and a worker that cannot boot (a broken app, a missing table) takes the master down
        only a moment after the port opened."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"gunicorn exited before serving:\n{self.tail()}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("HEAD", "/")
                connection.getresponse()
                return
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
            finally:
                connection.close()
        raise TimeoutError(f"gunicorn on {self.url} did not answer within {self.start_timeout}s")

    def worker_pids(self) -> list[int]:
        return self.children()

    def worker_pid(self) -> int:
        """The one gunicorn worker (`-w 1`): the process that serves, and the one to pause."""
        (pid,) = self.worker_pids()
        return pid

    def kill_worker(self) -> int:
        """kill -9 of the worker; gunicorn's master starts a new one (as systemd would restart a
        whole process). How many were killed: 0 while the master is between two workers."""
        pids = self.worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return len(pids)


@contextmanager
def running_server(
    database_url: str,
    log_dir: Path,
    *,
    port: int | None = None,
    app: str = "ediary.wsgi:app",
    provisioned: bool = False,
    **env: str,
) -> Iterator[Server]:
    """One server process against `database_url` for the `with` block; `env`: EDIARY_* over the
    defaults."""
    config = ServerConfig(database_url, app=app, provisioned=provisioned, env=env)
    with Server(config, log_dir, port=port) as server:
        yield server


class ServerGroup(Started):
    """N single-worker processes of one site joined by Redis (its message queue), as production
    runs them behind nginx; each accepts the others' origins and `origins` (nginx's address).

    The ports are chosen when the group is made, so that nginx can be configured for them before
    they start. A context manager, and a sequence of its servers.
    """

    def __init__(
        self,
        configs: Sequence[ServerConfig],
        log_dir: Path,
        *,
        redis_url: str | None = None,
        origins: Sequence[str] = (),
    ) -> None:
        ports = [free_port() for _ in configs]
        everyone = [*(f"http://127.0.0.1:{port}" for port in ports), *origins]
        self.servers = [
            Server(config, log_dir, port=port, origins=everyone, redis_url=redis_url)
            for config, port in zip(configs, ports, strict=True)
        ]

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers if server.port is not None]

    def start(self) -> Self:
        """All of them side by side; if one does not come up, none is left running."""
        try:
            for server in self.servers:
                server.spawn()
            for server in self.servers:
                server.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def worker_pids(self) -> list[int]:
        return [pid for server in self.servers for pid in server.worker_pids()]

    def __iter__(self) -> Iterator[Server]:
        return iter(self.servers)

    def __len__(self) -> int:
        return len(self.servers)

    def __getitem__(self, index: int) -> Server:
        return self.servers[index]

    @property
    def started(self) -> bool:
        return any(server.started for server in self.servers)


def schema_only_sqlite(directory: Path) -> str:
    """A SQLite database in `directory` with the schema and nothing else: enough for a server
    on the production settings, whose relay reads the journal at start-up."""
    import ediary.models  # noqa: F401 - every table, for create_all
    from ediary.db import Base, make_engine

    url = f"sqlite:///{directory / 'ediary.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url
