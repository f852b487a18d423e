"""Migrations (house rule 9): one head, dated and self-contained files, a migrated schema that
matches the models, and a downgrade that really takes everything away, on both backends.

If a model changes and this fails with a list of differences, write the migration:
`make migration m="what changed"`, read it, commit it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.pool import NullPool

import ediary.models  # noqa: F401 - the comparison needs every table in Base.metadata
from ediary import migrations
from ediary.db import Base, make_engine
from ediary.migrations.autogen import context_options

VERSIONS = Path(migrations.__file__).parent / "versions"
MIGRATION_FILES = sorted(VERSIONS.glob("*.py"))


def schema_differences(url: str) -> list[Any]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=context_options())
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_there_is_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    assert len(script.get_heads()) == 1, f"branched history, merge it: {script.get_heads()}"
    assert migrations.heads() == script.get_heads()


def test_there_are_migrations_at_all() -> None:
    # Guards the other file checks from passing vacuously over an empty or moved directory.
    assert MIGRATION_FILES, f"no migrations found in {VERSIONS}"


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=lambda p: p.name)
def test_migration_file_is_dated(path: Path) -> None:
    assert re.fullmatch(r"20\d{6}_[0-9a-f]+_\w+\.py", path.name), path.name


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=lambda p: p.name)
def test_migration_imports_no_application_code(path: Path) -> None:
    """A migration that imports models changes meaning when the models change (house rule 9)."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not {name for name in imported if name.split(".")[0] in {"ediary", "kiosk", "tests"}}


def test_upgrade_downgrade_upgrade_matches_models(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(backend)
    assert migrations.current(url) is None

    migrations.upgrade(url)
    head = migrations.heads()[0]
    assert migrations.current(url) == head
    # No difference is filtered out: every one found here is a real mismatch to migrate.
    assert schema_differences(url) == []
    assert set(Base.metadata.tables) | {"alembic_version"} == table_names(url)

    migrations.downgrade(url, "base")
    assert migrations.current(url) is None
    assert table_names(url) == {"alembic_version"}

    migrations.upgrade(url)
    assert migrations.current(url) == head
    assert schema_differences(url) == []


def test_drift_check_notices_a_missing_column(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    """The comparison above can fail: a column the models have and the schema lacks is reported."""
    url = fresh_database_url(backend)
    migrations.upgrade(url)
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            context = MigrationContext.configure(connection, opts=context_options())
            with Operations(context).batch_alter_table("users") as batch:
                batch.drop_column("phone")
    finally:
        engine.dispose()
    differences = schema_differences(url)
    # An add_column difference is ("add_column", schema, table, Column).
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "users", "phone")]


def test_migrations_run_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    migrations.upgrade(url)
    assert migrations.current(url) == migrations.heads()[0]
