"""A pooled PostgreSQL connection is pinged before use only after it sat idle (`db.make_engine`).

Each test ends the connection's server process behind the pool's back (`pg_terminate_backend`),
as a restart of the database does, and reads what the next checkout does with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ediary import db as database
from tests.servers import drop_pg_database, make_pg_database


@pytest.fixture
def new_engine(pg_server: str) -> Iterator[Callable[..., Engine]]:
    """Makes `db.make_engine`'s engines of one pooled connection, each on a database of its own."""
    made: list[tuple[Engine, str]] = []

    def make(**options: Any) -> Engine:
        url = make_pg_database(pg_server)
        made.append((database.make_engine(url, pool_size=1, max_overflow=0, **options), url))
        return made[-1][0]

    yield make
    for engine, url in made:
        engine.dispose()
        drop_pg_database(pg_server, url)


@pytest.fixture
def engine(new_engine: Callable[..., Engine]) -> Engine:
    return new_engine()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        pid = connection.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


def _terminate(pg_server: str, pid: int) -> None:
    admin = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        ended = connection.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        assert ended == (True,)


def test_a_connection_used_a_moment_ago_is_not_pinged(engine: Engine, pg_server: str) -> None:
    _terminate(pg_server, _backend(engine))
    # No ping: the statement itself meets the dead connection, as a disconnect.
    with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
        connection.scalar(text("SELECT 1"))
    assert failed.value.connection_invalidated
    # ...which replaced the pool's connections: the next use gets a live one.
    assert _backend(engine) > 0


def test_an_idle_connection_is_pinged_and_replaced(
    engine: Engine, pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _backend(engine)
    _terminate(pg_server, dead)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # every connection is "idle"
    with engine.connect() as connection:  # the ping fails, the checkout opens a new one
        assert connection.scalar(text("SELECT 1")) == 1
        assert connection.scalar(text("SELECT pg_backend_pid()")) != dead


def test_an_idle_live_connection_is_kept(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _backend(engine)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(engine) == first  # pinged, answered, used


def test_a_pre_ping_asked_for_is_sqlalchemys(
    new_engine: Callable[..., Engine], pg_server: str
) -> None:
    engine = new_engine(pool_pre_ping=True)
    dead = _backend(engine)
    _terminate(pg_server, dead)
    assert _backend(engine) != dead  # its ping at every checkout found the dead one


def test_a_statement_is_prepared_at_its_second_run_on_a_connection(engine: Engine) -> None:
    """`db.PREPARE_AFTER`: the first run parses and plans it, the second prepares it; a
    statement run once is never prepared."""
    once = "SELECT 1 AS once WHERE 1 = %s"
    twice = "SELECT 2 AS twice WHERE 2 = %s"
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for query, runs in ((once, 1), (twice, 1), (twice, 1)):
            cursor.execute(query, (runs,))
        prepared = conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars()
        texts = " ".join(prepared)
    assert "twice" in texts
    assert "once" not in texts
