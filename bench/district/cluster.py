"""The production topology on loopback, all of it throwaway, from the harness (tests/servers/): a
PostgreSQL cluster of our own (initdb into a temp dir, its own port), a private redis-server, N
single-worker gunicorn/gevent processes (provisioning/gunicorn.conf.py) and nginx with the site
rendered by provisioning/server/render-nginx.sh (sticky sessions, TLS with a throwaway self-signed
cert).

Every process is started here and stopped here (also when the run fails): `Cluster.close()`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import (
    ROOT,
    Nginx,
    PostgresCluster,
    RedisServer,
    Server,
    ServerConfig,
    ServerGroup,
    children,
    cpu_seconds,
    free_port,
    rss_kib,
    self_signed,
)

SECRET = "district-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway cluster
UNIT = ROOT / "provisioning/server/systemd/ediary-kiosk-server@.service"
PEOPLE_UNIT = ROOT / "provisioning/server/systemd/ediary-server@.service"


def reaped_cpu_seconds(pid: int) -> float:
    """CPU time of a process's children that ended and were reaped (cutime + cstime)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def unit_setting(unit: str, name: str, value: str) -> str | None:
    """The unit's `name=` setting where it matches the pattern `value`, else None."""
    found = re.search(rf"^{name}=({value})$", unit, re.M)
    return found.group(1) if found else None


def restart_seconds(unit: str) -> float:
    """The unit's RestartSec: how long systemd waits before it starts a process that exited."""
    found = unit_setting(unit, "RestartSec", r"\d+(?:\.\d+)?s?")  # "2", "2.5" or "2s"
    if found is None:
        raise ValueError("the unit sets no RestartSec")
    return float(found.removesuffix("s"))


def unit_nice(unit: str) -> int:
    """The unit's Nice= (0 when it sets none): the people's processes run at a lower priority
    than the kiosks' (provisioning/server/systemd/ediary-server@.service)."""
    return int(unit_setting(unit, "Nice", r"-?\d+") or 0)


@dataclass
class Cluster:
    """`processes` serve everyone, as before issue 19; with `kiosk_processes` they serve people
    only (EDIARY_SOCKETS=people) and that many more serve the kiosks (EDIARY_SOCKETS=kiosks),
    nginx sending the kiosks' path to them: the production layout of provisioning/README.md."""

    processes: int
    kiosk_processes: int = 0
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ediary-district-")))
    pg: PostgresCluster | None = None
    redis: RedisServer | None = None
    servers: ServerGroup | None = None
    nginx: Nginx | None = None
    port: int = 0
    closing: bool = False
    killed: list[str] = field(default_factory=list)  # the kind of each process killed
    client_pids: list[int] = field(default_factory=list)  # the harness's crowd processes

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        assert self.pg is not None
        return self.pg.url

    @property
    def cert(self) -> Path:
        return self.tmp / "cert.pem"

    def start_database(self) -> None:
        self.pg = PostgresCluster(self.tmp)
        self.pg.init()
        self.port = free_port()  # nginx's, known before the servers start (proxies need it)

    def start_rest(self, extra_origins: tuple[str, ...] = ()) -> None:
        """Redis, the servers and nginx. `extra_origins`: addresses that reach nginx through a
        proxy (Engine.IO checks the Origin header a client sends)."""
        self.redis = redis = RedisServer(self.tmp).start()
        split = self.kiosk_processes > 0

        def config(sockets: str) -> ServerConfig:
            # As the units run them: a people's process at its unit's Nice=, below the kiosks'.
            nice = unit_nice(PEOPLE_UNIT.read_text()) if sockets == "people" else 0
            return ServerConfig(
                self.database_url,
                provisioned=True,
                env={
                    "EDIARY_SECRET_KEY": SECRET,
                    # As provisioning/server/ediary.env.example: counters in Redis, nginx trusted.
                    "EDIARY_RATELIMIT_STORAGE_URI": redis.url.replace("/0", "/1"),
                    "EDIARY_PROXIES": "1",
                    "EDIARY_PROCESSES": str(self.processes + self.kiosk_processes),
                    "EDIARY_LOG_LEVEL": "warning",
                    "EDIARY_SOCKETS": sockets,
                    # As the systemd units: a dead worker takes its process down, restarted here.
                    "EDIARY_EXIT_WITH_WORKER": "1",
                },
                name=sockets,
                nice=nice,
            )

        configs = [config("people" if split else "all")] * self.processes
        configs += [config("kiosks")] * self.kiosk_processes
        self.servers = ServerGroup(
            configs,
            self.tmp,
            redis_url=self.redis.url,
            origins=[self.url, *extra_origins],
        ).start()
        cert, key = self_signed(self.tmp, "127.0.0.1")  # the kiosks verify it (ca_file)
        # Two workers: a proxied socket takes two descriptors, and 10,000 of them do not fit in
        # one process under a 20,000 open-files limit (a container's hard limit is fixed).
        ports = self.servers.ports
        self.nginx = Nginx(
            self.tmp,
            ports[: self.processes],
            cert,
            key,
            https_port=self.port,
            workers=2,
            connections=30000,
            open_files=20000,
            kiosk_ports=ports[self.processes :],  # none: the kiosks' path to the same processes
        ).start()

    def worker_pids(self) -> list[int]:
        return self.servers.worker_pids() if self.servers else []

    def nginx_pids(self) -> list[int]:
        return self.nginx.pids() if self.nginx else []

    # -- what the components use ---------------------------------------------------------------

    def pids_by_kind(self) -> dict[str, list[int]]:
        """Every process of the topology by what it is: the server processes by the sockets
        they serve (people, kiosks, or all), PostgreSQL (the postmaster and its backends),
        Redis, nginx (master and workers), and this harness with its crowd processes
        (`client_pids`): the clients."""
        kinds: dict[str, list[int]] = {"harness": [os.getpid(), *self.client_pids]}
        for server in self.servers or []:
            if server.running:
                kinds.setdefault(server.config.name, []).extend([server.pid, *server.worker_pids()])
        kinds["nginx"] = self.nginx_pids()
        kinds["redis"] = [self.redis.pid] if self.redis and self.redis.running else []
        postmaster = self.postmaster()
        kinds["postgres"] = [postmaster, *children(postmaster)] if postmaster else []
        return kinds

    def postmaster(self) -> int | None:
        if self.pg is None:
            return None
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.pg.data / "postmaster.pid").read_text().split()[0])
        return None

    def cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds so far; PostgreSQL's include its ended backends (reaped by the
        postmaster)."""
        used = {kind: cpu_seconds(pids) for kind, pids in self.pids_by_kind().items()}
        postmaster = self.postmaster()
        if postmaster:
            used["postgres"] += reaped_cpu_seconds(postmaster)
        return used

    def rss_by_kind(self) -> dict[str, int]:
        kinds = self.pids_by_kind()
        return {kind: rss_kib(kinds.get(kind, [])) for kind in ("people", "kiosks", "all", "nginx")}

    # -- faults -----------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return self.processes + self.kiosk_processes

    def kill_worker(self, index: int) -> int:
        """kill -9 of a server's worker process. Its master then stops too, closing the port
        (provisioning/gunicorn.conf.py, `child_exit`), and is started again here as systemd
        does it (Restart=always after RestartSec). In the split layout the kinds take turns
        (people's 1st, kiosks' 1st, people's 2nd, ...), so that two kills already hit one of
        each. How many workers were killed (0 while the process is down)."""
        assert self.servers is not None
        people = list(range(self.processes))
        kiosks = list(range(self.processes, self.total))
        turns = [n for pair in itertools.zip_longest(people, kiosks) for n in pair if n is not None]
        server = self.servers[turns[index % len(turns)]]
        killed = server.kill_worker()
        if killed:
            self.killed.append(server.config.name)
            threading.Thread(target=self._restart_when_down, args=(server,), daemon=True).start()
        return killed

    def _restart_when_down(self, server: Server) -> None:
        """systemd's Restart=always for one process whose master exited after its worker."""
        deadline = time.monotonic() + 30
        while server.running and time.monotonic() < deadline:
            time.sleep(0.05)
        if server.running:
            return  # the master replaced its worker itself (gunicorn without our settings)
        time.sleep(restart_seconds(UNIT.read_text()))
        if not self.closing:
            server.start()

    def close(self) -> None:
        self.closing = True
        for process in (self.nginx, self.servers, self.redis):
            if process is not None:
                with contextlib.suppress(Exception):  # tearing down whatever is left
                    process.stop()
        if self.pg:
            self.pg.stop("immediate")

    def remove(self) -> None:
        # nginx's worker may still be leaving when its master has gone: a second pass.
        for _ in range(2):
            shutil.rmtree(self.tmp, ignore_errors=True)
            if not self.tmp.exists():
                return
            time.sleep(1)
