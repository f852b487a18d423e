"""The `ediary` command: migrate, seed the demo, create users, issue kiosk codes, serve.

A user's mistake (a bad argument, an unknown school, a refused operation) ends with a one-line
message and a non-zero exit status, never a traceback; a traceback means a bug.

The application is imported inside the commands, not at the top: `serve --dev` has to let gevent
patch the standard library before anything else imports it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ediary.deploy.cli import check_command

if TYPE_CHECKING:
    from flask import Flask

    from ediary.demo.seed import SeedReport

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ("teacher", "secretary", "school_admin", "district_admin", "parent")
DEMO_URL = "sqlite:///instance/demo.db"
ROOT = Path(__file__).resolve().parent.parent


def database_url_option(fn: F) -> F:
    return click.option(
        "--database-url",
        metavar="URL",
        help="sqlite:///path or postgresql://user@host/db "
        "[default: $EDIARY_DATABASE_URL, else sqlite:///instance/ediary.db]",
    )(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ediary, the school e-diary: its database, demo, accounts, kiosks and server."""


main.add_command(check_command)


# --- the database ---------------------------------------------------------------------------


def resolve_url(url: str | None) -> str:
    """The option, else EDIARY_DATABASE_URL, else the configured default; checked for shape.

    A SQLite file's directory is created (the default lives in instance/, which git ignores).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from ediary.config import Config

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


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turns "cannot reach / not migrated" into a message; other database errors are bugs."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        yield
    except (OperationalError, InterfaceError) as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            raise click.ClickException(
                f"The database at {_shown(url)} has no ediary tables yet; "
                "run `ediary db upgrade` first."
            ) from None
        raise click.ClickException(f"Cannot use the database at {_shown(url)}: {reason}") from None
    except CommandError as error:
        raise click.ClickException(f"Migration: {error}") from None


def _require_schema(url: str) -> None:
    from ediary.migrations import current

    with database_errors(url):
        revision = current(url)
    if revision is None:
        raise click.ClickException(
            f"The database at {_shown(url)} has no ediary tables yet; "
            f"run `ediary db upgrade --database-url {_shown(url)}` first."
        )


def make_app(url: str, **overrides: Any) -> Flask:
    from ediary import create_app
    from ediary.config import Config

    return create_app(Config.from_env(DATABASE_URL=url, **overrides))


@contextmanager
def refusals(app: Flask) -> Iterator[None]:
    """A refused operation prints its own (translated) message."""
    from flask_babel import force_locale

    from ediary.db import db
    from ediary.errors import Refusal

    try:
        yield
    except Refusal as refusal:
        db.session.rollback()
        # No request here to choose a language from: the default one.
        with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
            message = str(refusal.message)
        raise click.ClickException(message) from None


@main.group("db")
def db_group() -> None:
    """Create, upgrade or downgrade the database schema (Alembic migrations)."""


@db_group.command("upgrade")
@database_url_option
@click.argument("revision", default="head")
def db_upgrade(database_url: str | None, revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from ediary.migrations import current, upgrade

    url = resolve_url(database_url)
    with database_errors(url):
        upgrade(url, revision)
        click.echo(f"{_shown(url)} is at revision {current(url)}.")


@db_group.command("downgrade")
@database_url_option
@click.argument("revision")
def db_downgrade(database_url: str | None, revision: str) -> None:
    """Migrate the database down to REVISION ("base" removes every table)."""
    from ediary.migrations import current, downgrade

    url = resolve_url(database_url)
    with database_errors(url):
        downgrade(url, revision)
        click.echo(f"{_shown(url)} is at revision {current(url) or 'base (empty)'}.")


@db_group.command("current")
@database_url_option
def db_current(database_url: str | None) -> None:
    """Print the revision the database is at."""
    from ediary.migrations import current

    url = resolve_url(database_url)
    with database_errors(url):
        click.echo(current(url) or "base (no ediary tables)")


# --- the demo -------------------------------------------------------------------------------


def _drop_demo(url: str) -> None:
    """Drops every table, but only of a demo database: never one with real accounts."""
    from sqlalchemy import MetaData, inspect, text
    from sqlalchemy.pool import NullPool

    from ediary.db import make_engine

    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if "users" in inspect(connection).get_table_names():
                real = connection.scalar(text("SELECT count(*) FROM users WHERE NOT is_demo"))
                if real:
                    raise click.ClickException(
                        f"--reset drops only demo databases; {_shown(url)} has {real} "
                        "account(s) that are not demo accounts. Nothing was changed."
                    )
            metadata = MetaData()
            metadata.reflect(connection)
            metadata.drop_all(connection)
    finally:
        engine.dispose()


def _seed(url: str, weeks: int, scale: float) -> tuple[SeedReport, float]:
    from sqlalchemy import func, select
    from tqdm import tqdm

    from ediary.db import db
    from ediary.demo.seed import seed_demo, steps
    from ediary.schools.models import School

    app = make_app(url)
    with app.app_context(), database_errors(url):
        if db.session.scalar(select(func.count(School.id))):
            raise click.ClickException(
                f"{_shown(url)} already has schools; the demo is seeded only into an empty "
                "database. Use --reset to drop a demo database and seed it again."
            )
        started = time.perf_counter()
        with tqdm(
            total=steps(weeks), desc="Seeding the demo district", unit="step", file=sys.stderr
        ) as bar:

            def progress(stage: str, done: int) -> None:
                bar.set_postfix_str(stage, refresh=False)
                bar.update(done)

            report = seed_demo(weeks=weeks, scale=scale, progress=progress)
            bar.set_postfix_str("saving", refresh=True)
            db.session.commit()
        seconds = time.perf_counter() - started
        db.session.remove()
    return report, seconds


@main.command("seed-demo")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.option(
    "--weeks",
    type=click.IntRange(0, 20),
    default=3,
    show_default=True,
    help="Weeks of past lessons with history (plus this week and the next).",
)
@click.option("--reset", is_flag=True, help="Drop the tables of a demo database first.")
@click.option("--scale", type=click.FloatRange(0, 1, min_open=True), default=1.0, hidden=True)
def seed_demo_command(
    database_url: str | None, as_json: bool, weeks: int, reset: bool, scale: float
) -> None:
    """Migrate an empty database and fill it with the demo district (without serving it)."""
    from ediary.migrations import upgrade

    url = resolve_url(database_url)
    with database_errors(url):
        if reset:
            _drop_demo(url)
        upgrade(url)
    report, seconds = _seed(url, weeks, scale)
    if as_json:
        click.echo(json.dumps(report.counts))
    else:
        for key, value in report.counts.items():
            click.echo(f"{key:>16}  {value}")
    diary = ", ".join(f"{value} {key}" for key, value in report.diary.items())
    click.echo(f"Seeded {_shown(url)} in {seconds:.1f} s ({diary}).", err=True)
    if not as_json:
        click.echo(
            "Demo accounts (nauczyciel1, wychowawca1, rodzic1, sekretariat1, dyrektor1, "
            "gmina.mirzec, ...) log in only on a server in demo mode: `ediary demo`.",
            err=True,
        )


def _demo_banner(url: str, address: str) -> str:
    from ediary.demo.accounts import DEMO_PASSWORD, demo_accounts

    app = make_app(url, DEMO_MODE=True)
    with app.app_context():
        accounts = demo_accounts()
    if not accounts:
        raise click.ClickException(
            f"{_shown(url)} has schools but no demo accounts: it is not a demo database, and "
            "`ediary demo` serves only demo databases."
        )
    lines = ["", f"ediary demo: open {address}/ in a browser"]
    if address.startswith(("http://127.", "http://localhost")):
        lines.append("(to try it on a phone in the same network: ediary demo --host 0.0.0.0)")
    lines += [f"Every demo account has the password: {DEMO_PASSWORD}", ""]
    width = max(len(a.login) for a in accounts)
    for account in accounts:
        lines.append(f"  {account.login:<{width}}  {account.name}: {account.shows}")
    lines += [
        "",
        "Every other account of the district (nauczyciel2..., rodzic2..., dyrektor2..., "
        "sekretariat2...) has the same password.",
        "Demo accounts work only while the server runs in demo mode. Stop it with Ctrl+C.",
        "",
    ]
    return "\n".join(lines)


@main.command()
@click.option(
    "--database-url",
    metavar="URL",
    default=DEMO_URL,
    show_default=True,
    help="The demo's own database (seeded when empty).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--weeks", type=click.IntRange(0, 20), default=3, show_default=True)
@click.option("--dev", is_flag=True, help="Use the development server instead of gunicorn.")
def demo(database_url: str, host: str, port: int, weeks: int, dev: bool) -> None:
    """Migrate, seed the demo district if the database is empty, and serve it in demo mode."""
    from sqlalchemy import func, select

    from ediary.db import db
    from ediary.migrations import upgrade
    from ediary.schools.models import School

    url = resolve_url(database_url)
    with database_errors(url):
        upgrade(url)
        app = make_app(url)
        with app.app_context():
            empty = not db.session.scalar(select(func.count(School.id)))
            db.session.remove()
        if empty:
            _, seconds = _seed(url, weeks, 1.0)
            click.echo(f"Seeded the demo district in {seconds:.1f} s.", err=True)
        click.echo(_demo_banner(url, f"http://{host}:{port}"))
    os.environ["EDIARY_DEMO_MODE"] = "true"
    # Sessions of a demo need no key that outlives the process.
    os.environ.setdefault("EDIARY_SECRET_KEY", secrets.token_hex(32))
    _serve(url, host, port, dev)


# --- accounts and kiosks ---------------------------------------------------------------------


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, err=True, show_default=False
        )
    if not password:
        raise click.UsageError("The password is empty.")
    return password


@main.command("create-user")
@database_url_option
@click.option("--login", required=True)
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--school", type=int, metavar="ID", help="The school of a staff role.")
@click.option("--district", type=int, metavar="ID", help="The gmina of a district administrator.")
@click.option(
    "--pupil",
    "pupils",
    type=int,
    multiple=True,
    metavar="ID",
    help="A parent's child (repeatable).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(
    database_url: str | None,
    login: str,
    first_name: str,
    last_name: str,
    role: str,
    school: int | None,
    district: int | None,
    pupils: tuple[int, ...],
    password_stdin: bool,
) -> None:
    """Create an account with a role: staff in a school, an administrator of a gmina, a parent."""
    if role == "district_admin" and (district is None or school is not None):
        raise click.UsageError("--role district_admin needs --district ID (and no --school).")
    if role in ("teacher", "secretary", "school_admin") and (
        school is None or district is not None
    ):
        raise click.UsageError(f"--role {role} needs --school ID (and no --district).")
    if role == "parent" and (school is not None or district is not None):
        raise click.UsageError("--role parent takes --pupil ID for each child, not a school.")
    if pupils and role != "parent":
        raise click.UsageError("--pupil links a parent to a child; use it with --role parent.")
    url = resolve_url(database_url)
    password = _read_password(password_stdin)
    _require_schema(url)

    from ediary.audit.recording import Actor, Channel
    from ediary.db import db
    from ediary.people.models import Role
    from ediary.people.operations import create_user, grant_role
    from ediary.schools.models import District, Pupil, School
    from ediary.schools.operations import link_guardian

    app = make_app(url)
    with app.app_context(), database_errors(url), refusals(app):
        actor = Actor.system(Channel.CLI)
        where = ""
        if school is not None:
            found = db.session.get(School, school)
            if found is None:
                raise click.ClickException(f"There is no school with id {school}.")
            where = f" in {found.name}"
        if district is not None:
            gmina = db.session.get(District, district)
            if gmina is None:
                raise click.ClickException(f"There is no gmina (district) with id {district}.")
            where = f" of {gmina.name}"
        children = []
        for pupil_id in pupils:
            child = db.session.get(Pupil, pupil_id)
            if child is None:
                raise click.ClickException(f"There is no pupil with id {pupil_id}.")
            children.append(child)
        user = create_user(
            actor, login=login, first_name=first_name, last_name=last_name, password=password
        )
        if role != "parent":
            grant_role(actor, user, Role(role), school_id=school, district_id=district)
        for child in children:
            link_guardian(actor, user, child)
        db.session.commit()
        if children:
            where = f" of {', '.join(c.full_name for c in children)}"
        click.echo(f"Created {user.login} (id {user.id}): {role}{where}.")


@main.command()
@database_url_option
def schools(database_url: str | None) -> None:
    """List the gminas and schools with their ids (for --school and --district)."""
    from sqlalchemy import select

    from ediary.db import db
    from ediary.schools.models import District, School

    url = resolve_url(database_url)
    _require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url):
        for gmina in db.session.scalars(select(District).order_by(District.id)):
            click.echo(f"gmina {gmina.id}: {gmina.name}")
            for school in db.session.scalars(
                select(School).where(School.district_id == gmina.id).order_by(School.id)
            ):
                click.echo(f"  school {school.id}: {school.name} ({school.short_name})")


@main.command("kiosk-code")
@database_url_option
@click.option("--school", type=int, required=True, metavar="ID")
@click.option("--room", required=True, metavar="NAME", help='The room\'s name, e.g. "12".')
@click.option(
    "--minutes", type=click.IntRange(1, 24 * 60), default=30, show_default=True, help="Validity."
)
def kiosk_code(database_url: str | None, school: int, room: str, minutes: int) -> None:
    """Issue a one-time enrollment code for a room's kiosk (made if the room has none).

    Prints only the code on standard output (the rest goes to standard error), so a script can
    capture it. The server keeps only a hash of it.
    """
    url = resolve_url(database_url)
    _require_schema(url)

    from sqlalchemy import select

    from ediary.audit.recording import Actor, Channel
    from ediary.db import db
    from ediary.kiosks.models import Kiosk
    from ediary.kiosks.operations import create_kiosk, issue_enrollment_code
    from ediary.schools.models import Room, School

    app = make_app(url)
    with app.app_context(), database_errors(url), refusals(app):
        found = db.session.get(School, school)
        if found is None:
            raise click.ClickException(f"There is no school with id {school}.")
        place = db.session.scalar(select(Room).where(Room.school_id == school, Room.name == room))
        if place is None:
            names = db.session.scalars(select(Room.name).where(Room.school_id == school)).all()
            # Numbered rooms in numeric order, then the named ones.
            names = sorted(names, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n))
            known = ", ".join(repr(n) for n in names) or "none"
            raise click.ClickException(
                f"{found.short_name} has no room named {room!r}. Its rooms: {known}."
            )
        actor = Actor.system(Channel.CLI)
        kiosk = db.session.scalar(select(Kiosk).where(Kiosk.room_id == place.id))
        if kiosk is None:
            kiosk = create_kiosk(actor, place)
        code = issue_enrollment_code(actor, kiosk, minutes)
        db.session.commit()
        click.echo(code)
        click.echo(
            f"One-time enrollment code for {kiosk.name} ({found.short_name}), valid for "
            f"{minutes} minutes.",
            err=True,
        )


# --- serving --------------------------------------------------------------------------------


def _gunicorn_config() -> Path | None:
    for base in (ROOT, Path.cwd()):
        candidate = base / "provisioning" / "gunicorn.conf.py"
        if candidate.is_file():
            return candidate
    return None


def _serve(url: str, host: str, port: int, dev: bool) -> NoReturn:
    os.environ["EDIARY_DATABASE_URL"] = url
    if "EDIARY_SOCKETIO_ORIGINS" not in os.environ:
        origins = {f"http://{host}:{port}", f"http://127.0.0.1:{port}", f"http://localhost:{port}"}
        os.environ["EDIARY_SOCKETIO_ORIGINS"] = ",".join(sorted(origins))
    if dev:
        _serve_dev(host, port)
    args = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "--bind", f"{host}:{port}"]
    config = _gunicorn_config()
    if config is not None:
        args += ["-c", str(config)]
    args.append("ediary.wsgi:app")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)  # noqa: S606 - our own interpreter, fixed arguments


def _serve_dev(host: str, port: int) -> NoReturn:
    """Starts `dev-server` in a fresh interpreter: gevent must patch before anything is imported."""
    args = [sys.executable, "-m", "ediary.cli", "dev-server", "--host", host, "--port", str(port)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)  # noqa: S606 - our own interpreter, fixed arguments


@main.command("dev-server", hidden=True)
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=5000)
def dev_server(host: str, port: int) -> None:
    """The development server; `serve --dev` runs it in a fresh process (see `_serve_dev`)."""
    from gevent import monkey

    monkey.patch_all()

    from ediary import create_app
    from ediary.config import Config
    from ediary.extensions import socketio

    app = create_app(Config.from_env())
    click.echo(f"Development server on http://{host}:{port}/ (gevent); Ctrl+C stops it.", err=True)
    socketio.run(app, host=host, port=port, debug=app.debug, use_reloader=False, log_output=True)


@main.command()
@database_url_option
@click.option("--dev", is_flag=True, help="The development server (one process, gevent).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
def serve(database_url: str | None, dev: bool, host: str, port: int) -> None:
    """Serve the application: gunicorn with the gevent worker, or --dev for development."""
    url = resolve_url(database_url)
    _require_schema(url)
    _serve(url, host, port, dev)


if __name__ == "__main__":
    main()
