"""The nightly backup script against the machine's PostgreSQL: a verified dump is kept, and a dump
that does not restore, or restores with rows missing, is refused."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ediary.db import Base
from tests.conftest import drop_pg_database, make_pg_database
from tests.provisioning.conftest import PROVISIONING, require_tools

BACKUP = PROVISIONING / "server/backup/ediary-backup.sh"


@pytest.fixture(scope="module")
def database(pg_server: str) -> Iterator[str]:
    """ediary's schema with a few rows, and a table of many."""
    require_tools("pg_dump", "pg_restore", "psql")
    url = make_pg_database(pg_server)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE attendance_archive (id serial PRIMARY KEY, note text)")
        )
        connection.execute(
            text(
                "INSERT INTO attendance_archive (note)"
                " SELECT 'n' || g FROM generate_series(1, 500) g"
            )
        )
    engine.dispose()
    yield url
    drop_pg_database(pg_server, url)


def run_backup(
    database_url: str, directory: Path, path_prefix: Path | None = None
) -> subprocess.CompletedProcess[str]:
    url = make_url(database_url)
    env = {
        **os.environ,
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "postgres",
        "EDIARY_BACKUP_DATABASE": str(url.database),
        "EDIARY_BACKUP_DIR": str(directory),
    }
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(
        ["bash", str(BACKUP)], capture_output=True, text=True, env=env, timeout=120
    )


def scratch_databases(pg_server: str) -> list[str]:
    engine = create_engine(pg_server)
    with engine.connect() as connection:
        names = (
            connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE '%restore_check%'")
            )
            .scalars()
            .all()
        )
    engine.dispose()
    return list(names)


def test_a_backup_is_kept_only_after_it_restores(
    database: str, tmp_path: Path, pg_server: str
) -> None:
    result = run_backup(database, tmp_path)
    assert result.returncode == 0, result.stderr
    dumps = sorted(tmp_path.iterdir())
    assert len(dumps) == 1 and dumps[0].suffix == ".dump"
    assert oct(dumps[0].stat().st_mode & 0o777) == "0o600"
    tables = len(Base.metadata.tables) + 1
    assert f"verified: {tables} tables restored with the same row counts" in result.stderr
    assert scratch_databases(pg_server) == []


def fake(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    real = subprocess.run(["bash", "-c", f"command -v {name}"], capture_output=True, text=True)
    path.write_text(f"#!/bin/bash\nREAL={real.stdout.strip()}\n{body}\n")
    path.chmod(0o755)
    return directory


def test_a_dump_missing_rows_is_refused(database: str, tmp_path: Path, pg_server: str) -> None:
    # A dump that silently lost a table's rows: it restores, but the counts differ.
    bin_dir = fake(
        tmp_path / "bin", "pg_dump", 'exec "$REAL" --exclude-table-data=attendance_archive "$@"'
    )
    backups = tmp_path / "backups"
    result = run_backup(database, backups, bin_dir)
    assert result.returncode == 1
    assert "row counts differ" in result.stderr
    assert "attendance_archive 500" in result.stderr
    assert list(backups.iterdir()) == []
    assert scratch_databases(pg_server) == []


def test_a_dump_that_does_not_restore_is_refused(database: str, tmp_path: Path) -> None:
    # A dump cut short (a full disk, a killed process): it never becomes a backup.
    bin_dir = fake(
        tmp_path / "bin",
        "pg_dump",
        '''"$REAL" "$@" || exit
for arg in "$@"; do case "$arg" in --file=*) f=${arg#--file=} ;; esac; done
truncate --size=$(( $(stat -c %s "$f") / 2 )) "$f"''',
    )
    backups = tmp_path / "backups"
    result = run_backup(database, backups, bin_dir)
    assert result.returncode == 1
    assert "does not restore" in result.stderr
    assert list(backups.iterdir()) == []


def test_old_backups_are_deleted(database: str, tmp_path: Path) -> None:
    name = make_url(database).database
    old = tmp_path / f"{name}-20000101T000000Z.dump"
    recent = tmp_path / f"{name}-20990101T000000Z.dump"
    other = tmp_path / "notes.txt"
    for path in (old, recent, other):
        path.write_text("x")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(other, (month_ago, month_ago))
    result = run_backup(database, tmp_path)
    assert result.returncode == 0, result.stderr
    assert not old.exists() and recent.exists() and other.exists()
    assert f"deleted old backup {old}" in result.stderr
