"""What every command needs: the database URL, its errors as messages, an app, refusals."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from alembic.util.exc import CommandError
from flask import Flask
from flask_babel import force_locale
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from ediary import create_app
from ediary.config import Config
from ediary.db import db
from ediary.errors import Refusal
from ediary.migrations import current

F = TypeVar("F", bound=Callable[..., Any])


def database_url_option(fn: F) -> F:
    return click.option(
        "--database-url",
        metavar="URL",
        help="sqlite:///path or postgresql://user@host/db "
        "[default: $EDIARY_DATABASE_URL, else sqlite:///instance/ediary.db]",
    )(fn)


def resolve_url(url: str | None) -> str:
    """The option, else EDIARY_DATABASE_URL, else the configured default; checked for shape.

    A SQLite file's directory is created (the default lives in instance/, which git ignores).
    """
    url = url or os.environ.get("EDIARY_DATABASE_URL") or Config().DATABASE_URL
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise click.BadParameter(
            f"{url!r} is not a database URL; expected sqlite:///path/to/file.db "
            "or postgresql://user@host/database",
            param_hint="'--database-url'",
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise click.BadParameter(
            f"{backend!r} databases are not supported; use sqlite or postgresql",
            param_hint="'--database-url'",
        )
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return url


def shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turns "cannot reach / not migrated" into a message; other database errors are bugs."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            raise click.ClickException(
                f"The database at {shown(url)} has no ediary tables yet; "
                "run `ediary db upgrade` first."
            ) from None
        raise click.ClickException(f"Cannot use the database at {shown(url)}: {reason}") from None
    except CommandError as error:
        raise click.ClickException(f"Migration: {error}") from None


def require_schema(url: str) -> None:
    with database_errors(url):
        revision = current(url)
    if revision is None:
        raise click.ClickException(
            f"The database at {shown(url)} has no ediary tables yet; "
            f"run `ediary db upgrade --database-url {shown(url)}` first."
        )


def make_app(url: str, **overrides: Any) -> Flask:
    return create_app(Config.from_env(DATABASE_URL=url, **overrides))


@contextmanager
def refusals(app: Flask) -> Iterator[None]:
    """A refused operation prints its own (translated) message."""
    try:
        yield
    except Refusal as refusal:
        db.session.rollback()
        # No request here to choose a language from: the default one.
        with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
            message = str(refusal.message)
        raise click.ClickException(message) from None
