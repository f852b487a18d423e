"""`ediary seed-demo` and `ediary demo`: the demo district, seeded and served in demo mode."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy import MetaData, func, inspect, select, text
from sqlalchemy.pool import NullPool
from tqdm import tqdm

from ediary.audit.recording import Actor, Channel
from ediary.cli.common import database_errors, database_url_option, make_app, resolve_url, shown
from ediary.cli.serving import server_command
from ediary.cli.supervisor import refuse_ports_in_use, supervise
from ediary.db import db, make_engine, utcnow
from ediary.demo.accounts import DEMO_PASSWORD, demo_accounts
from ediary.demo.gmina import board_morning
from ediary.demo.now import DEMO_TEACHER, NoDemoLesson, demo_lesson_now
from ediary.demo.seed import SeedReport, seed_demo, steps, top_up_lessons
from ediary.demo.twofactor import DEMO_TOTP_SECRET, demo_code, enrol_demo
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import create_kiosk, issue_enrollment_code
from ediary.migrations import upgrade
from ediary.schools.models import School

DEMO_URL = "sqlite:///instance/demo.db"


def _drop_demo(url: str) -> None:
    """Drops every table, but only of a demo database: never one with real accounts."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if "users" in inspect(connection).get_table_names():
                real = connection.scalar(text("SELECT count(*) FROM users WHERE NOT is_demo"))
                if real:
                    raise click.ClickException(
                        f"--reset drops only demo databases; {shown(url)} has {real} "
                        "account(s) that are not demo accounts. Nothing was changed."
                    )
            metadata = MetaData()
            metadata.reflect(connection)
            metadata.drop_all(connection)
    finally:
        engine.dispose()


def _seed(url: str, weeks: int, scale: float) -> tuple[SeedReport, float]:
    """Seeds with a progress bar on standard error; returns the report and the seconds it took."""
    app = make_app(url)
    with app.app_context(), database_errors(url):
        if db.session.scalar(select(func.count(School.id))):
            raise click.ClickException(
                f"{shown(url)} already has schools; the demo is seeded only into an empty "
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


@click.command("seed-demo")
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
# Fewer schools, one class a year, fewer pupils: a quick district for tests.
@click.option("--scale", type=click.FloatRange(0, 1, min_open=True), default=1.0, hidden=True)
def seed_demo_command(
    database_url: str | None, as_json: bool, weeks: int, reset: bool, scale: float
) -> None:
    """Migrate an empty database and fill it with the demo district (without serving it)."""
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
    click.echo(f"Seeded {shown(url)} in {seconds:.1f} s ({diary}).", err=True)
    if not as_json:
        click.echo(
            "Demo accounts (nauczyciel1, wychowawca1, rodzic1, sekretariat1, dyrektor1, "
            "gmina.mirzec, ...) log in only on a server in demo mode: `ediary demo`.",
            err=True,
        )


def _top_up(url: str) -> None:
    """A demo seeded days ago gets this week's and next week's lessons before it is served."""
    app = make_app(url)
    with app.app_context():
        added = top_up_lessons()
        enrol_demo()  # a demo seeded before two-factor login: its staff get the demo key
        db.session.commit()
        db.session.remove()
    if added:
        click.echo(f"Added {added} lessons for this week and the next.", err=True)


def _demo_banner(url: str, address: str) -> str:
    """What `ediary demo` prints at start: where to go, and the accounts with their password."""
    app = make_app(url, DEMO_MODE=True)
    with app.app_context():
        accounts = demo_accounts()
        db.session.remove()
    if not accounts:
        raise click.ClickException(
            f"{shown(url)} has schools but no demo accounts: it is not a demo database, and "
            "`ediary demo` serves only demo databases."
        )
    lines = ["", f"ediary demo: open {address}/ in a browser"]
    if address.startswith(("http://127.", "http://localhost")):
        lines.append("(to try it on a phone in the same network: ediary demo --host 0.0.0.0)")
    lines += [f"Every demo account has the password: {DEMO_PASSWORD}"]
    lines += [
        f"Directors, secretaries and gmina administrators also type a code: add the key "
        f"{DEMO_TOTP_SECRET} to an authenticator app (code now: {demo_code()}).",
        "",
    ]
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


# Said in the banner: how the lesson now came to be (ediary/demo/now.py).
HOW = {
    "timetable": "",
    "extra": " (an extra lesson the demo added)",
    "substitution": " (a substitution the demo arranged)",
    "early": " (the demo started it a few minutes early)",
    "early substitution": " (a substitution the demo arranged, started a few minutes early)",
}


def _demo_kiosk_code(url: str) -> tuple[str, str]:
    """The demo teacher's lesson now (made when there is none) and a one-time code for its
    room's kiosk; returns the code and what the banner says about them."""
    app = make_app(url)
    with app.app_context():
        try:
            found = demo_lesson_now(Actor.system(Channel.SYSTEM), utcnow())
        except NoDemoLesson as error:
            raise click.ClickException(
                f"The demo has no lesson now ({error}); run `ediary seed-demo --reset`."
            ) from None
        lesson = found.lesson
        actor = Actor.system(Channel.CLI)
        kiosk = db.session.scalar(select(Kiosk).where(Kiosk.room_id == lesson.room_id))
        kiosk = kiosk or create_kiosk(actor, lesson.room)
        code = issue_enrollment_code(actor, kiosk, 30)
        school = db.session.get_one(School, lesson.school_id)
        zone = ZoneInfo(school.timezone)
        starts, ends = lesson.starts_at.astimezone(zone), lesson.ends_at.astimezone(zone)
        klass = lesson.school_class.name
        where = (
            f"it is enrolled for room {lesson.room.name} of {school.short_name}, where "
            f"{DEMO_TEACHER} has a lesson now: {lesson.subject.name} with {klass}, "
            f"{starts:%H:%M}-{ends:%H:%M}{HOW[found.how]}.\n"
            f"Log in there as {DEMO_TEACHER}, take the roll, and log in as {found.parent} "
            f"(a parent in {klass}) in another browser window to see it arrive."
        )
        db.session.commit()
        db.session.remove()
    return code, where


def _board_morning(url: str) -> None:
    """The gmina's board as on a school-day morning, whatever the hour (ediary/demo/gmina.py)."""
    app = make_app(url)
    with app.app_context():
        board_morning(Actor.system(Channel.SYSTEM), utcnow())
        db.session.commit()
        db.session.remove()


def _kiosk_command(server: str, code: str, state_dir: Path, port: int) -> list[str]:
    """The demo kiosk's launcher: waits for the server, enrolls (which makes `state_dir`, private
    to its user), becomes the agent."""
    launcher = [sys.executable, "-m", "ediary.demo.kiosk_launcher"]
    return [*launcher, server, code, str(state_dir), str(port)]


def _demo_secret_key() -> str:
    """Kept in instance/ so that the kiosk's queued entries (signed with it) survive a restart."""
    path = Path("instance") / "demo-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _demo_vapid_key() -> str:
    """The demo's own Web Push key (never a production one), kept like its secret key so that
    devices subscribed in the demo stay subscribed across restarts."""
    from ediary.notifications.push import new_vapid_private_key

    path = Path("instance") / "demo-vapid-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_vapid_private_key())
        path.chmod(0o600)
    return path.read_text().strip()


@click.command("demo")
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
@click.option(
    "--kiosk-port",
    type=click.IntRange(0, 65535),
    default=8090,
    show_default=True,
    help="Port of the demo kiosk on 127.0.0.1; 0 starts no kiosk.",
)
@click.option(
    "--kiosk-state-dir",
    type=click.Path(path_type=Path),
    default=Path("instance/kiosk-demo"),
    show_default=True,
)
def demo_command(
    database_url: str,
    host: str,
    port: int,
    weeks: int,
    dev: bool,
    kiosk_port: int,
    kiosk_state_dir: Path,
) -> None:
    """Migrate, seed the demo district if the database is empty, and serve it in demo mode."""
    url = resolve_url(database_url)
    ports = [(host, port, "--port")]
    if kiosk_port:
        ports.append(("127.0.0.1", kiosk_port, "--kiosk-port"))
    refuse_ports_in_use(ports)  # before a seed that takes a while, and before anything starts
    with database_errors(url):
        upgrade(url)
        app = make_app(url)
        with app.app_context():
            empty = not db.session.scalar(select(func.count(School.id)))
            db.session.remove()
        if empty:
            _seed(url, weeks, 1.0)
        banner = _demo_banner(url, f"http://{host}:{port}")  # refuses a database not a demo's
        if not empty:
            _top_up(url)
        click.echo(banner)
        if kiosk_port:
            code, where = _demo_kiosk_code(url)
            click.echo(
                f"Demo kiosk: open http://127.0.0.1:{kiosk_port}/ (exactly this address) in a "
                f"browser; {where}\n"
            )
        _board_morning(url)  # after the demo teacher's lesson: the gmina's board, any hour
    os.environ["EDIARY_DEMO_MODE"] = "true"
    os.environ.setdefault("EDIARY_SECRET_KEY", _demo_secret_key())
    os.environ.setdefault("EDIARY_VAPID_PRIVATE_KEY", _demo_vapid_key())
    kiosk = None
    if kiosk_port:
        server = f"http://127.0.0.1:{port}"
        kiosk = _kiosk_command(server, code, kiosk_state_dir, kiosk_port)
    sys.stdout.flush()
    sys.exit(supervise(server_command(url, host, port, dev=dev), kiosk))
