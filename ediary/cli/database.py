"""`ediary db upgrade | downgrade | current`: the schema, through the Alembic migrations."""

from __future__ import annotations

import click

from ediary.cli.common import database_errors, database_url_option, resolve_url, shown
from ediary.migrations import current, downgrade, upgrade


@click.group("db")
def db_group() -> None:
    """Create, upgrade or downgrade the database schema (Alembic migrations)."""


@db_group.command("upgrade")
@database_url_option
@click.argument("revision", default="head")
def db_upgrade(database_url: str | None, revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    url = resolve_url(database_url)
    with database_errors(url):
        upgrade(url, revision)
        click.echo(f"{shown(url)} is at revision {current(url)}.")


@db_group.command("downgrade")
@database_url_option
@click.argument("revision")
def db_downgrade(database_url: str | None, revision: str) -> None:
    """Migrate the database down to REVISION ("base" removes every table)."""
    url = resolve_url(database_url)
    with database_errors(url):
        downgrade(url, revision)
        click.echo(f"{shown(url)} is at revision {current(url) or 'base (empty)'}.")


@db_group.command("current")
@database_url_option
def db_current(database_url: str | None) -> None:
    """Print the revision the database is at."""
    url = resolve_url(database_url)
    with database_errors(url):
        click.echo(current(url) or "base (no ediary tables)")
