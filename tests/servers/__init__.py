"""The one harness that starts real servers, for the tests and for the benchmarks (bench/).

Every program is a `Process` (process.py): a command with its environment and log, started and
waited for on its port, stopped (SIGTERM, then SIGKILL), killed with SIGKILL on purpose,
restarted; nothing started here outlives the test or the benchmark that started it.

- `Server`, `ServerConfig`, `running_server` (gunicorn.py): one ediary process, gunicorn with
  the gevent worker, with the test settings or provisioning/gunicorn.conf.py's (on a
  `schema_only_sqlite` database, say);
  `ServerGroup`: N of them joined by Redis, as production runs them behind nginx.
- `RedisServer` (redis.py): a private redis-server on a free port, to stop and start again.
- `PostgresCluster`, `make_pg_database`, `drop_pg_database` (postgres.py): a cluster of its own
  (initdb, pg_ctl), or throwaway databases on the machine's server.
- `Nginx`, `self_signed` (nginx.py): the production site rendered by provisioning/ on loopback.
- `free_port`, `wait_for_port`, `children`, `rss_kib`, `cpu_seconds`: ports and /proc.

A program that is not installed raises `MissingTool`; a test turns that into a skip (a failure
under CI=true) with `start_or_skip`.
"""

from __future__ import annotations

import os
from typing import TypeVar

import pytest

from tests.servers.gunicorn import (
    CHEAP_HASHING,
    TEST_SECRET_KEY,
    Server,
    ServerConfig,
    ServerGroup,
    running_server,
    schema_only_sqlite,
)
from tests.servers.nginx import Nginx, loopback_nginx_conf, self_signed
from tests.servers.postgres import (
    PG_BIN,
    PostgresCluster,
    drop_pg_database,
    make_pg_database,
    postgres_unreachable,
)
from tests.servers.process import (
    ROOT,
    MissingTool,
    Process,
    children,
    cpu_seconds,
    free_port,
    rss_kib,
    tool,
    wait_for_port,
)
from tests.servers.redis import RedisServer

__all__ = [
    "CHEAP_HASHING",
    "PG_BIN",
    "ROOT",
    "TEST_SECRET_KEY",
    "MissingTool",
    "Nginx",
    "PostgresCluster",
    "Process",
    "RedisServer",
    "Server",
    "ServerConfig",
    "ServerGroup",
    "children",
    "cpu_seconds",
    "drop_pg_database",
    "free_port",
    "loopback_nginx_conf",
    "make_pg_database",
    "postgres_unreachable",
    "rss_kib",
    "running_server",
    "schema_only_sqlite",
    "self_signed",
    "start_or_skip",
    "tool",
    "wait_for_port",
]

Started = TypeVar("Started", bound=Process)


def start_or_skip(process: Started) -> Started:
    """Starts a server for a test; a missing program skips it, and fails it under CI=true."""
    try:
        process.start()
    except MissingTool as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    return process
