"""The production topology on loopback, all of it throwaway: a PostgreSQL cluster of our own
(initdb into a temp dir, its own port), a private redis-server, N single-worker gunicorn/gevent
processes (provisioning/gunicorn.conf.py) and nginx with the site rendered by
provisioning/server/render-nginx.sh (sticky sessions, TLS with a throwaway self-signed cert).

Every process is started here and stopped here (also when the run fails): `Cluster.close()`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import (
    RedisServer,
    children,
    free_port,
    loopback_nginx_conf,
    self_signed,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parent.parent.parent
PG_BIN = Path(os.environ.get("EDIARY_PG_BIN", "/usr/lib/postgresql/15/bin"))
SECRET = "district-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway cluster


def binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise SystemExit(f"district: {name} is needed (Debian package: see the issue)")
    return found


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class Postgres:
    """initdb + pg_ctl. PostgreSQL refuses to run as root: then everything runs as `postgres`."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory / "pg"
        self.data = self.dir / "data"
        self.port = free_port()
        self.log = directory / "postgresql.log"
        self.user: str | None = "postgres" if os.geteuid() == 0 else None
        self.dir.mkdir()
        if self.user:
            directory.chmod(0o755)  # mkdtemp's 0700 would keep the postgres user out
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            self.log.touch()
            os.chown(self.log, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        command = list(args)
        if self.user:
            command = [binary("runuser"), "-u", self.user, "--", *command]
        done = subprocess.run(  # noqa: S603 - fixed binaries, our own arguments
            command, check=False, capture_output=True, timeout=120
        )
        if check and done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.decode(errors='replace')}")
        return done

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=off -c full_page_writes=off"
        )
        # fsync off: the drills crash PostgreSQL's processes, never the machine's page cache.
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False
        )


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class AppServer:
    port: int
    log: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "provisioning/gunicorn.conf.py",
                    "--no-control-socket",
                    "ediary.wsgi:app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process is not None else []

    def stop(self) -> None:
        _stop(self.process, 20)


@dataclass
class Cluster:
    processes: int
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ediary-district-")))
    pg: Postgres | None = None
    redis: RedisServer | None = None
    servers: list[AppServer] = field(default_factory=list)
    nginx: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        assert self.pg is not None
        return self.pg.url

    def start_database(self) -> None:
        self.pg = Postgres(self.tmp)
        self.pg.init()
        self.port = free_port()  # nginx's, known before the servers start (proxies need it)

    def start_rest(self, extra_origins: tuple[str, ...] = ()) -> None:
        """Redis, the servers and nginx. `extra_origins`: addresses that reach nginx through a
        proxy (Engine.IO checks the Origin header a client sends)."""
        self.redis = RedisServer(self.tmp)
        self.redis.start()
        env = {
            **os.environ,
            "EDIARY_DATABASE_URL": self.database_url,
            "EDIARY_SECRET_KEY": SECRET,
            "EDIARY_REDIS_URL": self.redis.url,
            # As provisioning/server/ediary.env.example: counters in Redis, nginx's hop trusted.
            "EDIARY_RATELIMIT_STORAGE_URI": self.redis.url.replace("/0", "/1"),
            "EDIARY_PROXIES": "1",
            "EDIARY_SOCKETIO_ORIGINS": ",".join([self.url, *extra_origins]),
            "EDIARY_PROCESSES": str(self.processes),
            "EDIARY_ARGON2_TIME_COST": "1",
            "EDIARY_ARGON2_MEMORY_KIB": "8",
            "EDIARY_ARGON2_PARALLELISM": "1",
            "EDIARY_LOG_LEVEL": "warning",
            "EDIARY_GRACEFUL_TIMEOUT": "2",
            "PYTHONPATH": str(ROOT),
        }
        for _ in range(self.processes):
            port = free_port()
            server = AppServer(
                port, self.tmp / f"server-{port}.log", {**env, "EDIARY_BIND": f"127.0.0.1:{port}"}
            )
            server.start()
            self.servers.append(server)
        for server in self.servers:
            assert server.process is not None
            wait_for_port(server.port, 60, server.process)
        self._start_nginx()

    @property
    def cert(self) -> Path:
        return self.tmp / "cert.pem"

    def _start_nginx(self) -> None:
        cert, key = self_signed(self.tmp, "127.0.0.1")  # the kiosks verify it (ca_file)
        # Two workers: a proxied socket takes two descriptors, and 10,000 of them do not fit in
        # one process under a 20,000 open-files limit (a container's hard limit is fixed).
        conf = loopback_nginx_conf(
            self.tmp,
            [s.port for s in self.servers],
            cert,
            key,
            http_port=free_port(),
            https_port=self.port,
            access_log=self.tmp / "nginx-access.log",
            workers=2,
            connections=30000,
            open_files=20000,
        )
        self.nginx = subprocess.Popen(  # noqa: S603 - Debian's nginx, our config
            [binary("nginx"), "-c", str(conf), "-p", str(self.tmp)],
            stdout=subprocess.DEVNULL,
            stderr=(self.tmp / "nginx-stderr.log").open("wb"),
        )
        wait_for_port(self.port, 20, self.nginx)

    def worker_pids(self) -> list[int]:
        return [pid for server in self.servers for pid in server.worker_pids()]

    def nginx_pids(self) -> list[int]:
        if self.nginx is None:
            return []
        return [self.nginx.pid, *children(self.nginx.pid)]

    # -- faults -----------------------------------------------------------------------------

    def kill_worker(self, index: int) -> int:
        """kill -9 of a server's worker process; gunicorn's master starts a new one (as systemd
        would restart a whole process)."""
        pids = self.servers[index].worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return len(pids)

    def close(self) -> None:
        _stop(self.nginx)
        for server in self.servers:
            with contextlib.suppress(Exception):
                server.stop()
        if self.redis:
            self.redis.stop()
        if self.pg:
            self.pg.stop("immediate")

    def remove(self) -> None:
        # nginx's worker may still be leaving when its master has gone: a second pass.
        for _ in range(2):
            shutil.rmtree(self.tmp, ignore_errors=True)
            if not self.tmp.exists():
                return
            time.sleep(1)
