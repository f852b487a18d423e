"""`ediary db upgrade | downgrade | current`: the schema, through the Alembic migrations."""

from __future__ import annotations

import click

from ediary.cli.common import (
    database_errors,
    database_url_option,
    make_app,
    require_schema,
    resolve_url,
    shown,
)
from ediary.db import db
from ediary.migrations import current, downgrade, upgrade
from ediary.realtime.retention import prune_journal


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


@db_group.command("prune-journal")
@database_url_option
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Keep this many days of events (default: EDIARY_JOURNAL_RETENTION_DAYS).",
)
def db_prune_journal(database_url: str | None, days: int | None) -> None:
    """Delete journal events older than the retention (run it nightly, e.g. from a timer).

    Clients that resume from an older event are told to reload; no diary row or history entry
    is touched."""
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url):
        keep = days or int(app.config["JOURNAL_RETENTION_DAYS"])
        removed = prune_journal(keep)
        db.session.commit()
        db.session.remove()
    click.echo(f"Removed {removed} journal events older than {keep} days from {shown(url)}.")
