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
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import (
    Nginx,
    PostgresCluster,
    RedisServer,
    ServerConfig,
    ServerGroup,
    free_port,
    self_signed,
)

SECRET = "district-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway cluster


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
                },
                name=sockets,
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

    # -- faults -----------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return self.processes + self.kiosk_processes

    def kill_worker(self, index: int) -> int:
        """kill -9 of a server's worker process; gunicorn's master starts a new one (as systemd
        would restart a whole process). In the split layout the kinds take turns (people's 1st,
        kiosks' 1st, people's 2nd, ...), so that two kills already hit one of each."""
        assert self.servers is not None
        people = list(range(self.processes))
        kiosks = list(range(self.processes, self.total))
        turns = [n for pair in itertools.zip_longest(people, kiosks) for n in pair if n is not None]
        return self.servers[turns[index % len(turns)]].kill_worker()

    def close(self) -> None:
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
