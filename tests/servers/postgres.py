"""PostgreSQL: throwaway databases on the machine's server, and a throwaway cluster of its own
(initdb into a directory, its own port) that a drill may stop and start without touching the
machine's server."""

from __future__ import annotations

import os
import pwd
import subprocess
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.servers.process import MissingTool, free_port, tool

PG_BIN = Path(os.environ.get("EDIARY_PG_BIN", "/usr/lib/postgresql/15/bin"))


def postgres_unreachable(admin_url: str) -> str | None:
    """Why the PostgreSQL server of `admin_url` cannot be used, or None when it answers."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as error:  # any failure to connect means: no server
        return f"PostgreSQL not reachable at {admin_url}: {error}"
    finally:
        engine.dispose()
    return None


def make_pg_database(admin_url: str, prefix: str = "ediary_test") -> str:
    """A new empty database on the server of `admin_url`; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


class PostgresCluster:
    """initdb + pg_ctl in `directory`/pg, listening on 127.0.0.1 at a free port. PostgreSQL
    refuses to run as root: then everything runs as the `postgres` user.

    Not a `Process`: pg_ctl starts the server in the background and waits for it (`-w`), and
    `stop(mode)` chooses how it ends ("immediate" is a crash, recovered at the next start).
    """

    def __init__(self, directory: Path) -> None:
        if not (PG_BIN / "initdb").exists():
            raise MissingTool(f"{PG_BIN}/initdb is missing (Debian package postgresql)")
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
            command = [tool("runuser", "util-linux"), "-u", self.user, "--", *command]
        done = subprocess.run(command, check=False, capture_output=True, timeout=120)
        if check and done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.decode(errors='replace')}")
        return done

    def init(self) -> None:
        """A new cluster (trust authentication, UTF-8), then started."""
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
        # fsync off: the drills crash PostgreSQL's processes, never the machine's page cache.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=off -c full_page_writes=off"
        )
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
        """pg_ctl's shutdown `mode`: "fast" (clean) or "immediate" (as in a crash)."""
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False
        )
