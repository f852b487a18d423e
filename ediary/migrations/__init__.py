"""Alembic migrations, driven from code so that they work from any working directory.

`ediary db upgrade`, the tests and `make migration` call these functions. The database URL is
handed to env.py through `Config.attributes`, not the ini file, so a password containing `%` is
never mangled by configparser.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from ediary.db import make_engine

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def autogenerate(message: str, database_url: str | None = None) -> list[Path]:
    """Writes a new migration with the differences between the models and the migrated schema.

    Without a URL the comparison is made against a throw-away SQLite database migrated to head,
    so nobody's development database has to be up to date (or exist) to write a migration.
    Returns the paths of the files written; read them before committing, autogenerate is a draft.
    """
    if database_url is not None:
        return _revision(message, database_url)
    with tempfile.TemporaryDirectory(prefix="ediary-migration-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'head.db'}"
        upgrade(url)
        return _revision(message, url)


def _revision(message: str, database_url: str) -> list[Path]:
    config = alembic_config(database_url)
    config.attributes["autogenerate"] = True
    made = command.revision(config, message=message, autogenerate=True)
    scripts = made if isinstance(made, list) else [made]
    return [Path(script.path) for script in scripts if script is not None]
