"""Alembic's environment: which database, which metadata, and how to run on SQLite.

Runs when Alembic loads it (never imported as a module). The URL comes from
`ediary.migrations.alembic_config(database_url)`, or from the EDIARY_* environment when the plain
`alembic` command is used.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.pool import NullPool

import ediary.models  # noqa: F401 - autogenerate needs every table in Base.metadata
from ediary.config import Config
from ediary.db import Base, make_engine
from ediary.migrations.autogen import context_options, skip_empty_revision

config = context.config


def database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    return str(url or Config.from_env().DATABASE_URL)


def autogenerating() -> bool:
    return bool(
        config.attributes.get("autogenerate") or getattr(config.cmd_opts, "autogenerate", False)
    )


def options() -> dict[str, Any]:
    extra: dict[str, Any] = {"target_metadata": Base.metadata}
    if autogenerating():
        # Only then: a hand-written migration (data, say) starts empty on purpose.
        extra["process_revision_directives"] = skip_empty_revision
    return {**context_options(), **extra}


def run_offline() -> None:
    context.configure(url=database_url(), literal_binds=True, **options())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    # make_engine gives migrations the same SQLite set-up as the app (WAL, synchronous=FULL,
    # busy timeout) and the psycopg driver for postgresql:// URLs.
    engine = make_engine(database_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                _run_sqlite(connection)
            else:
                _run(connection)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **options())
    with context.begin_transaction():
        context.run_migrations()


def _run_sqlite(connection: Connection) -> None:
    """Foreign keys off while migrating, checked before commit.

    A batch ALTER on SQLite copies a table, drops the original and renames the copy; with foreign
    keys on, dropping a referenced table fails or cascades (the procedure in SQLite's "ALTER TABLE"
    documentation turns them off first). The pragma is ignored inside a transaction, so it goes
    straight to the driver before Alembic begins one; the integrity it would have kept is checked
    with foreign_key_check before the transaction commits.
    """
    connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    try:
        # SQLite's DDL is transactional; Alembic assumes otherwise only because of pysqlite's
        # own transaction handling, which make_engine turns off. One transaction means a failed
        # upgrade leaves the database as it was, and the foreign key check below sees it all.
        context.configure(connection=connection, transactional_ddl=True, **options())
        with context.begin_transaction():
            context.run_migrations()
            broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
            if broken:
                raise RuntimeError(f"migration left rows breaking foreign keys: {broken[:10]}")
    finally:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


if context.is_offline_mode():
    run_offline()
else:
    run_online()
