"""The `ediary` command line: clear messages for mistakes, accounts, kiosk codes, the servers.

Most commands run in-process through click's runner (`invoke`), which restores the tests' own
database binding afterwards; a few run as real processes (`run_cli`), as a user runs them, to
show what a person sees on the terminal, and the servers run as real processes on loopback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result
from sqlalchemy import text

from ediary.cli import main
from ediary.cli.serving import WORKER_CLASS
from ediary.db import db, make_engine
from ediary.demo.accounts import DEMO_PASSWORD
from ediary.kiosks.operations import code_digest
from tests import test_demo_seed as seed
from tests.servers import Process, free_port, wait_for_port
from tests.test_demo_seed import CHEAP_HASHING, ROOT, login, run_cli

# The demo district is seeded by a real `ediary` process, on the suite's shared clock
# (tests/clock.py).
pytestmark = pytest.mark.shared_clock

# The seeded demo district and the app fixture, shared with the seed's tests.
demo_district = seed.demo_district
demo_copy = seed.demo_copy
app_on = seed.app_on

PASSWORD = "correct horse battery staple"

Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Iterator[Invoke]:
    """`ediary ARGS...` in-process; each command's app binds the global `db`, so it is put back."""
    saved = db.engine
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> Result:
        try:
            return runner.invoke(main, list(args), input=stdin, env=CHEAP_HASHING)
        finally:
            if db.engine is not None and db.engine is not saved:
                db.engine.dispose()

    yield run
    if saved is not None:
        db.bind(saved)


def refused(result: Result, message: str, code: int = 1) -> bool:
    """The command stopped with `message`, as a user's mistake (no exception escaped)."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, result.output
    assert message in result.output, result.output
    return "Traceback" not in result.output


def rows(url: str, query: str, **params: object) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(query), params)]
    finally:
        engine.dispose()


def mirzec_id(url: str) -> int:
    return int(rows(url, "SELECT id FROM schools WHERE short_name = 'SP Mirzec'")[0][0])


# --- mistakes -----------------------------------------------------------------------------------


def test_help_lists_the_commands(invoke):
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("db", "seed-demo", "create-user", "kiosk-code", "serve", "demo"):
        assert command in result.output
    assert "dev-server" not in result.output  # the internal half of `serve --dev`


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "janitor"], "Invalid value for '--role': 'janitor' is not one of"),
        (["--role", "teacher"], "--role teacher needs --school ID"),
        (["--role", "district_admin", "--school", "1"], "needs --district ID"),
        (["--role", "secretary", "--pupil", "3", "--school", "1"], "--pupil links a parent"),
        (
            ["--role", "parent", "--database-url", "no-such-thing"],
            "'no-such-thing' is not a database URL",
        ),
        (
            ["--role", "parent", "--database-url", "mysql://db/ediary"],
            "'mysql' databases are not supported",
        ),
    ],
    ids=["unknown-role", "missing-school", "district-without-gmina", "pupil", "bad-url", "mysql"],
)
def test_bad_arguments_give_a_clear_message(invoke, args, message):
    base = ["create-user", "--login", "x", "--first-name", "X", "--last-name", "Y"]
    result = invoke(*base, *args, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert refused(result, message, code=2)


def test_unknown_school_room_pupil_and_unreachable_database(invoke, demo_district):
    url = demo_district.url
    school = str(mirzec_id(url))
    kiosk = ["kiosk-code", "--database-url", url, "--school"]
    assert refused(
        invoke(*kiosk, school, "--room", "404"),
        "SP Mirzec has no room named '404'. Its rooms: '1', '2', '3'",
    )
    assert refused(invoke(*kiosk, "999", "--room", "1"), "There is no school with id 999.")
    parent = ["create-user", "--database-url", url, "--login", "nowy", "--first-name", "A"]
    assert refused(
        invoke(
            *parent,
            "--last-name",
            "B",
            "--role",
            "parent",
            "--pupil",
            "987654",
            "--password-stdin",
            stdin=f"{PASSWORD}\n",
        ),
        "There is no pupil with id 987654.",
    )
    unreachable = "postgresql://nobody@127.0.0.1:9/none"
    assert refused(
        invoke("db", "current", "--database-url", unreachable),
        f"Cannot use the database at {unreachable}",
    )


def test_a_users_mistake_in_a_real_process_is_one_line_without_traceback(demo_district):
    school = str(mirzec_id(demo_district.url))
    result = run_cli(
        "kiosk-code", "--database-url", demo_district.url, "--school", school, "--room", "404"
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: SP Mirzec has no room named '404'.")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_database_without_tables_is_named_not_crashed_on(invoke, tmp_path):
    url = f"sqlite:///{tmp_path / 'instance' / 'new.db'}"
    result = invoke("kiosk-code", "--database-url", url, "--school", "1", "--room", "1")
    assert refused(result, "has no ediary tables yet; run `ediary db upgrade")
    assert (tmp_path / "instance").is_dir()  # the SQLite file's folder is made when missing
    result = invoke("serve", "--database-url", url)
    assert refused(result, "has no ediary tables yet")


def test_db_upgrade_current_and_downgrade(invoke, tmp_path):
    url = f"sqlite:///{tmp_path / 'db' / 'ediary.db'}"
    assert invoke("db", "current", "--database-url", url).output.startswith("base")
    upgraded = invoke("db", "upgrade", "--database-url", url)
    assert upgraded.exit_code == 0, upgraded.output
    head = invoke("db", "current", "--database-url", url).output.strip()
    assert re.fullmatch(r"[0-9a-f]{12}", head)
    assert head in upgraded.output
    assert rows(url, "SELECT count(*) FROM schools") == [(0,)]
    bad = invoke("db", "upgrade", "--database-url", url, "no-such-revision")
    assert refused(bad, "no-such-revision")
    down = invoke("db", "downgrade", "--database-url", url, "base")
    assert down.exit_code == 0, down.output
    assert invoke("db", "current", "--database-url", url).output.startswith("base")
    assert rows(url, "SELECT count(*) FROM sqlite_master WHERE name = 'schools'") == [(0,)]


# --- accounts -----------------------------------------------------------------------------------


def create_user(invoke: Invoke, url: str, *args: str, password: str = PASSWORD) -> Result:
    return invoke(
        "create-user", "--database-url", url, *args, "--password-stdin", stdin=f"{password}\n"
    )


def test_created_user_logs_in_outside_demo_mode(invoke, demo_copy, app_on):
    school = mirzec_id(demo_copy.url)
    made = create_user(
        invoke,
        demo_copy.url,
        "--login",
        "Beata.Nowa",
        "--first-name",
        "Beata",
        "--last-name",
        "Nowa",
        "--role",
        "secretary",
        "--school",
        str(school),
    )
    assert made.exit_code == 0, made.output
    assert "Created beata.nowa" in made.output and "Szkoła Podstawowa w Mirzcu" in made.output
    user = rows(
        demo_copy.url,
        "SELECT u.id, u.is_demo, m.role, m.school_id FROM users u "
        "JOIN memberships m ON m.user_id = u.id WHERE u.login = 'beata.nowa'",
    )
    assert [r[1:] for r in user] == [(0, "secretary", school)]
    channels = rows(
        demo_copy.url,
        "SELECT channel, actor_id FROM history WHERE entity = 'users' AND entity_id = :id",
        id=user[0][0],
    )
    assert channels == [("cli", None)]

    app = app_on(demo_copy.url)  # DEMO_MODE off, as in production
    client = app.test_client()
    assert login(client, "beata.nowa", "wrong password, surely").status_code == 401
    assert login(client, "beata.nowa", PASSWORD).status_code == 302
    assert login(app.test_client(), "sekretariat1", DEMO_PASSWORD).status_code == 401


def test_create_parent_links_children_and_refusals_are_messages(invoke, demo_copy):
    pupils = rows(demo_copy.url, "SELECT id FROM pupils ORDER BY id LIMIT 2")
    made = create_user(
        invoke,
        demo_copy.url,
        "--login",
        "opiekun",
        "--first-name",
        "Jan",
        "--last-name",
        "Opiekun",
        "--role",
        "parent",
        "--pupil",
        str(pupils[0][0]),
        "--pupil",
        str(pupils[1][0]),
    )
    assert made.exit_code == 0, made.output
    linked = rows(
        demo_copy.url,
        "SELECT g.pupil_id FROM guardianships g JOIN users u ON u.id = g.user_id "
        "WHERE u.login = 'opiekun' ORDER BY g.pupil_id",
    )
    assert linked == pupils

    base = ["--first-name", "A", "--last-name", "B", "--role", "parent"]
    taken = create_user(invoke, demo_copy.url, "--login", "nauczyciel1", *base)
    assert refused(taken, "Ten login jest już zajęty.")
    short = create_user(invoke, demo_copy.url, "--login", "nowy", *base, password="krótkie")
    assert refused(short, "Hasło musi mieć co najmniej 12 znaków.")
    assert rows(demo_copy.url, "SELECT count(*) FROM users WHERE login = 'nowy'") == [(0,)]


def test_create_user_without_a_terminal_says_to_use_password_stdin(tmp_path):
    url = f"sqlite:///{tmp_path / 'ediary.db'}"
    args = ["create-user", "--database-url", url, "--login", "nowy", "--first-name", "A"]
    result = run_cli(*args, "--last-name", "B", "--role", "parent", stdin="")  # a pipe, no tty
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: There is no terminal to ask for the password on; "
        "pipe it in with --password-stdin.\n"
    )
    assert not (tmp_path / "ediary.db").exists()  # stopped before anything was opened


def test_password_prompt_and_a_district_administrator(invoke, demo_copy, monkeypatch):
    monkeypatch.setattr("ediary.cli.accounts._terminal", lambda: True)  # the runner's stdin is not
    gmina = rows(demo_copy.url, "SELECT id FROM districts WHERE name = 'Gmina Wąchock'")[0][0]
    args = ["create-user", "--database-url", demo_copy.url, "--login", "wojt.wachock"]
    args += ["--first-name", "Jan", "--last-name", "Wójt", "--role", "district_admin"]
    mismatch = invoke(*args, "--district", str(gmina), stdin=f"{PASSWORD}\nsomething else\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output
    made = invoke(*args, "--district", str(gmina), stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.exit_code == 0, made.output
    assert PASSWORD not in made.output  # the prompt does not echo it
    assert "of Gmina Wąchock" in made.output
    roles = rows(
        demo_copy.url,
        "SELECT m.role, m.district_id, m.school_id FROM memberships m "
        "JOIN users u ON u.id = m.user_id WHERE u.login = 'wojt.wachock'",
    )
    assert roles == [("district_admin", gmina, None)]
    unknown = invoke(*args, "--district", "404", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert refused(unknown, "There is no gmina (district) with id 404.")


def test_schools_lists_gminas_and_schools_with_their_ids(invoke, demo_district):
    result = invoke("schools", "--database-url", demo_district.url)
    assert result.exit_code == 0, result.output
    mirzec = mirzec_id(demo_district.url)
    assert f"  school {mirzec}: Szkoła Podstawowa w Mirzcu (SP Mirzec)" in result.output
    assert result.output.count("gmina ") == 2 and result.output.count("  school ") == 10


# --- kiosk codes --------------------------------------------------------------------------------


def test_kiosk_code_is_printed_once_and_stored_only_as_a_hash(invoke, demo_copy):
    school = mirzec_id(demo_copy.url)
    args = ["kiosk-code", "--database-url", demo_copy.url, "--school", str(school)]
    result = invoke(*args, "--room", "12")
    assert result.exit_code == 0, result.output
    code = result.stdout.strip()  # only the code on standard output, for scripts
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}", code)
    assert "valid for 30 minutes" in result.stderr
    stored = rows(
        demo_copy.url,
        "SELECT e.id, e.code_hash, k.name FROM enrollment_codes e "
        "JOIN kiosks k ON k.id = e.kiosk_id JOIN rooms r ON r.id = k.room_id "
        "WHERE r.name = '12' AND r.school_id = :school",
        school=school,
    )
    assert len(stored) == 1
    code_id, code_hash, kiosk_name = stored[0]
    plain = code.replace("-", "")
    assert code_hash == code_digest(code) == hashlib.sha256(plain.encode()).hexdigest()
    assert kiosk_name == "Kiosk 12"
    history = rows(
        demo_copy.url,
        "SELECT new, channel FROM history WHERE entity = 'enrollment_codes' AND entity_id = :id",
        id=code_id,
    )
    assert len(history) == 1 and history[0][1] == "cli"
    new = history[0][0]
    new = json.loads(new) if isinstance(new, str) else new
    assert new["code_hash"] == "***" and plain not in json.dumps(new)

    too_long = invoke(*args, "--room", "12", "--minutes", "5000")
    assert refused(too_long, "Invalid value for '--minutes'", code=2)


def test_kiosk_code_makes_the_rooms_kiosk_when_it_has_none(invoke, demo_copy):
    school = mirzec_id(demo_copy.url)
    engine = make_engine(demo_copy.url)
    with engine.begin() as connection:  # a room without a kiosk (setup, not a user's write)
        connection.execute(
            text(
                "DELETE FROM kiosks WHERE room_id = "
                "(SELECT id FROM rooms WHERE name = '7' AND school_id = :s)"
            ),
            {"s": school},
        )
    engine.dispose()
    result = invoke(
        "kiosk-code",
        "--database-url",
        demo_copy.url,
        "--school",
        str(school),
        "--room",
        "7",
        "--minutes",
        "5",
    )
    assert result.exit_code == 0, result.output
    assert "valid for 5 minutes" in result.stderr
    made = rows(
        demo_copy.url,
        "SELECT k.name, h.channel FROM kiosks k JOIN rooms r ON r.id = k.room_id "
        "JOIN history h ON h.entity = 'kiosks' AND h.entity_id = k.id "
        "WHERE r.name = '7' AND r.school_id = :s",
        s=school,
    )
    assert made == [("Kiosk 7", "cli")]


# --- seeding and resetting ----------------------------------------------------------------------


def test_reset_reseeds_a_demo_database_but_never_one_with_real_accounts(invoke, tmp_path):
    url = f"sqlite:///{tmp_path / 'small.db'}"
    small = ["--scale", "0.1", "--weeks", "0", "--json"]
    first = invoke("seed-demo", "--database-url", url, *small)
    assert first.exit_code == 0, first.output
    again = invoke("seed-demo", "--database-url", url, "--reset", *small)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert rows(url, "SELECT count(*) FROM districts") == [(2,)]

    real = ["--login", "prawdziwy", "--first-name", "A", "--last-name", "B", "--role", "parent"]
    assert create_user(invoke, url, *real).exit_code == 0
    result = invoke("seed-demo", "--database-url", url, "--reset", *small)
    assert refused(result, "--reset drops only demo databases")
    assert rows(url, "SELECT count(*) FROM users WHERE login = 'prawdziwy'") == [(1,)]


class Served(Exception):
    """Raised by the stand-in for `supervise`, which would run the server and the kiosk."""


@dataclass(frozen=True)
class Started:
    """What `ediary demo` would have started: the server's and the kiosk's command lines."""

    server: list[str]
    kiosk: list[str] | None
    environ: dict[str, str]

    @property
    def kiosk_args(self) -> tuple[str, str, Path, int]:
        """The launcher's (server, one-time code, state directory, port)."""
        assert self.kiosk is not None and self.kiosk[1:3] == ["-m", "ediary.demo.kiosk_launcher"]
        server, code, state_dir, port = self.kiosk[3:]
        return server, code, Path(state_dir), int(port)


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> list[Started]:
    calls: list[Started] = []

    def supervise(server: list[str], kiosk: list[str] | None) -> int:
        calls.append(Started(server, kiosk, dict(os.environ)))
        raise Served

    monkeypatch.setattr("ediary.cli.demo.supervise", supervise)
    # `demo` configures its server through the environment (demo mode, the database, the secret
    # key): a copy of it, so that nothing leaks into the other tests.
    environ = {k: v for k, v in os.environ.items() if k != "EDIARY_SECRET_KEY"}
    monkeypatch.setattr(os, "environ", {**environ, "EDIARY_DEMO_MODE": "false"})
    return calls


def test_demo_refuses_a_database_that_is_not_a_demo(invoke, demo_copy, no_serving):
    engine = make_engine(demo_copy.url)
    with engine.begin() as connection:  # setup: the same schools, but real accounts only
        connection.execute(text("UPDATE users SET is_demo = false"))
        lessons = connection.execute(text("SELECT count(*) FROM lessons")).scalar_one()
        # The demo's announced tests name planned lessons (ediary/homework): they go first.
        connection.execute(
            text(
                "DELETE FROM homework WHERE lesson_id IN "
                "(SELECT id FROM lessons WHERE status = 'planned')"
            )
        )
        connection.execute(text("DELETE FROM lessons WHERE status = 'planned'"))
    engine.dispose()
    result = invoke("demo", "--database-url", demo_copy.url, "--port", str(free_port()))
    assert refused(result, "not a demo database")
    assert DEMO_PASSWORD not in result.output
    assert no_serving == []
    remaining = rows(demo_copy.url, "SELECT count(*) FROM lessons")[0][0]
    assert 0 < remaining < lessons  # nothing was added to a database that is not a demo's


def test_demo_adds_this_and_next_weeks_lessons_to_an_older_demo(
    invoke, demo_copy, no_serving, tmp_path
):
    today = dt.datetime.now(seed.WARSAW).date().isoformat()
    engine = make_engine(demo_copy.url)
    with engine.begin() as connection:  # setup: as if seeded weeks ago
        # Lessons of the weekly plan: a lesson made by hand (the demo's group lesson beside an
        # absent teacher's, ediary/demo/substitutions.py) is not the plan's to make again.
        future = (
            "SELECT count(*) FROM lessons WHERE date > :today AND timetable_entry_id IS NOT NULL"
        )
        expected = connection.execute(text(future), {"today": today}).scalar_one()
        # The demo's announced tests name future lessons (ediary/homework): they go first.
        connection.execute(
            text(
                "DELETE FROM homework WHERE lesson_id IN "
                "(SELECT id FROM lessons WHERE date > :today)"
            ),
            {"today": today},
        )
        connection.execute(text("DELETE FROM lessons WHERE date > :today"), {"today": today})
    engine.dispose()
    assert expected > 0
    port, kiosk_port, state_dir = free_port(), free_port(), tmp_path / "kiosk-demo"
    args = ["--port", str(port), "--kiosk-port", str(kiosk_port), "--kiosk-state-dir", state_dir]
    result = invoke("demo", "--database-url", demo_copy.url, *map(str, args))
    assert isinstance(result.exception, Served), result.output
    assert f"Added {expected} lessons for this week and the next." in result.output
    assert f"Every demo account has the password: {DEMO_PASSWORD}" in result.output
    (started,) = no_serving
    assert started.server[-1] == "ediary.wsgi:app" and WORKER_CLASS in started.server
    assert started.server[started.server.index("--bind") + 1] == f"127.0.0.1:{port}"
    assert started.environ["EDIARY_DATABASE_URL"] == demo_copy.url
    assert started.environ["EDIARY_DEMO_MODE"] == "true"
    server, code, kiosk_dir, kiosk_at = started.kiosk_args  # enrolled with a fresh code
    assert (server, kiosk_dir, kiosk_at) == (f"http://127.0.0.1:{port}", state_dir, kiosk_port)
    assert rows(
        demo_copy.url,
        "SELECT count(*) FROM enrollment_codes WHERE code_hash = :digest",
        digest=code_digest(code),
    ) == [(1,)]
    assert rows(demo_copy.url, future, today=today) == [(expected,)]
    made = rows(
        demo_copy.url,
        # Distinct: the gmina's morning (ediary/demo/gmina.py) may also substitute or cancel one
        # of them, a second history row of the same lesson.
        "SELECT count(DISTINCT l.id) FROM lessons l JOIN history h ON h.entity = 'lessons' "
        "AND h.entity_id = l.id AND h.channel = 'system' WHERE l.date > :today",
        today=today,
    )
    assert made == [(expected,)]


# --- the servers --------------------------------------------------------------------------------


def _start(args: list[str], log: Path, port: int) -> Process:
    """`ediary ARGS...` as a real process serving on `port` (`wait_ready()` waits for it)."""
    process = Process(
        [sys.executable, "-m", "ediary.cli", *args], log=log, env=CHEAP_HASHING, port=port
    )
    process.spawn()
    return process


def _web_login(base: str, user_login: str, password: str) -> requests.Response:
    with requests.Session() as browser:
        page = browser.get(f"{base}/login", timeout=10).text
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert token is not None
        return browser.post(
            f"{base}/login",
            data={"login": user_login, "password": password, "csrf_token": token.group(1)},
            allow_redirects=False,
            timeout=10,
        )


@pytest.mark.slow
def test_demo_serves_in_demo_mode_and_prints_the_accounts(demo_copy, tmp_path):
    port = free_port()
    log = tmp_path / "demo.log"
    kiosk_port, kiosk_state = free_port(), tmp_path / "kiosk"
    args = ["demo", "--database-url", demo_copy.url, "--port", str(port)]
    args += ["--kiosk-port", str(kiosk_port), "--kiosk-state-dir", str(kiosk_state)]
    process = _start(args, log, port)
    try:
        process.wait_ready()
        response = _web_login(f"http://127.0.0.1:{port}", "rodzic1", DEMO_PASSWORD)
        assert response.status_code == 302, log.read_text()
        # The demo kiosk enrolls itself and serves its lock screen on loopback.
        wait_for_port(kiosk_port, timeout=60)
        screen = requests.get(f"http://127.0.0.1:{kiosk_port}/", timeout=10)
        assert screen.status_code == 200 and "no-store" in screen.headers["Cache-Control"]
        status = subprocess.run(
            [sys.executable, "-m", "kiosk", "status", "--state-dir", str(kiosk_state)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        assert json.loads(status.stdout)["enrolled"] is not None
    finally:
        process.stop()  # SIGTERM to `ediary demo`: it stops the kiosk too
        found = subprocess.run(["pgrep", "-f", str(kiosk_state)], capture_output=True, text=True)
        kiosk_pids = found.stdout.split()
        for pid in kiosk_pids:  # only should the test fail: this test's own kiosk
            os.kill(int(pid), signal.SIGTERM)
    assert kiosk_pids == [], "the demo kiosk outlived `ediary demo`"
    output = log.read_text()
    assert f"open http://127.0.0.1:{port}/" in output
    assert f"Every demo account has the password: {DEMO_PASSWORD}" in output
    for account in ("nauczyciel1", "wychowawca1", "rodzic1", "sekretariat1", "dyrektor1"):
        assert f"  {account} " in output
    assert f"Using worker: {WORKER_CLASS}" in output  # gunicorn with ediary's gevent worker
    assert f"Demo kiosk: open http://127.0.0.1:{kiosk_port}/" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_serve_dev_runs_without_demo_mode(demo_copy, tmp_path):
    port = free_port()
    log = tmp_path / "dev.log"
    args = ["serve", "--dev", "--database-url", demo_copy.url, "--port", str(port)]
    process = _start(args, log, port)
    try:
        process.wait_ready()
        response = _web_login(f"http://127.0.0.1:{port}", "rodzic1", DEMO_PASSWORD)
        assert response.status_code == 401  # demo passwords open nothing outside demo mode
    finally:
        process.stop()
    output = log.read_text()
    assert DEMO_PASSWORD not in output
    assert "Development server on" in output and "Traceback" not in output


def test_prune_journal_keeps_the_retention_and_the_newest_event(invoke, demo_copy):
    school = mirzec_id(demo_copy.url)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).replace(tzinfo=None)
    new = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine = make_engine(demo_copy.url)
    with engine.begin() as connection:
        # The demo's own events (its messages and announcements) have lower ids than the two
        # old ones below: pruning deletes a prefix of ids (realtime/retention.py), so they go too.
        seeded = connection.execute(text("SELECT count(*) FROM journal")).scalar_one()
        for at in (old, old, new):
            connection.execute(
                text(
                    "INSERT INTO journal (at, type, school_id, audience, audience_id, payload) "
                    "VALUES (:at, 'lesson.topic', :school, 'class', 1, '{}')"
                ),
                {"at": at, "school": school},
            )
    engine.dispose()
    result = invoke("db", "prune-journal", "--database-url", demo_copy.url, "--days", "14")
    assert result.exit_code == 0, result.output
    assert f"Removed {seeded + 2} journal events older than 14 days" in result.output
    assert rows(demo_copy.url, "SELECT count(*) FROM journal") == [(1,)]
    again = invoke("db", "prune-journal", "--database-url", demo_copy.url)
    assert "Removed 0 journal events older than 14 days" in again.output
