"""The embedded database keeps what it acknowledged: WAL, synchronous=FULL, foreign keys on.

Checked on every pooled connection, because SQLite pragmas belong to a connection, not a file: a
second connection opened without them would silently run with the unsafe defaults.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from ediary.db import make_engine

SYNCHRONOUS_FULL = 2


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    yield engine
    engine.dispose()


def test_every_connection_is_wal_full_sync_with_foreign_keys(engine: Engine) -> None:
    with engine.connect() as first, engine.connect() as second:
        for connection in (first, second):
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == SYNCHRONOUS_FULL
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_foreign_key_violation_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        connection.execute(
            text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id REFERENCES parent(id))")
        )
        connection.execute(text("INSERT INTO parent (id) VALUES (1)"))
        connection.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 1)"))

    with pytest.raises(IntegrityError, match="FOREIGN KEY"), engine.begin() as connection:
        connection.execute(text("INSERT INTO child (id, parent_id) VALUES (2, 99)"))

    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM child")).scalars().all() == [1]


def test_the_journal_stays_wal_after_reopening(tmp_path: Path) -> None:
    """WAL is recorded in the file, so a later process (the server after `ediary db upgrade`) and
    a plain sqlite3 connection (a backup script) find it too."""
    url = f"sqlite:///{tmp_path / 'reopened.db'}"
    for _ in range(2):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)"))
        engine.dispose()
    raw = sqlite3.connect(tmp_path / "reopened.db")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
