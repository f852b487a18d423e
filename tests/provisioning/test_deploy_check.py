"""`ediary check --deploy`: a safe production configuration passes, and each unsafe setting,
flipped alone, is refused with its own problem code."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import make_url, text

from ediary.cli import main as ediary_cli
from ediary.config import Config
from ediary.db import make_engine
from ediary.deploy.checks import (
    KNOWN_OTHER_PREFIXES,
    KNOWN_OTHER_VARIABLES,
    Problem,
    check_deploy,
)
from ediary.deploy.cli import read_env_file
from tests.conftest import drop_pg_database, make_pg_database
from tests.provisioning.conftest import PROVISIONING, ROOT

SECRET = secrets.token_urlsafe(48)
DURABLE_PG = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}
DURABLE_SQLITE = {"synchronous": "2", "journal_mode": "wal"}


def safe_config(**changes: object) -> Config:
    config = Config(
        DATABASE_URL="postgresql+psycopg://ediary@127.0.0.1/ediary",
        SECRET_KEY=SECRET,
        REDIS_URL="redis://127.0.0.1:6379/0",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/1",
        SOCKETIO_ORIGINS=["https://dziennik.gmina.pl"],
        SESSION_COOKIE_SECURE=True,
        PROCESSES=2,
        PROXIES=1,
    )
    return replace(config, **changes)  # type: ignore[arg-type]


def codes(
    config: Config,
    environ: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
) -> list[str]:
    if settings is None:
        settings = DURABLE_SQLITE if config.DATABASE_URL.startswith("sqlite") else DURABLE_PG
    found = check_deploy(config, environ or {}, read_database_settings=lambda _config: settings)
    return [problem.code for problem in found]


def test_a_safe_configuration_passes() -> None:
    assert codes(safe_config()) == []
    # One process on SQLite is the single-school setup: safe too.
    single = safe_config(
        DATABASE_URL="sqlite:////var/lib/ediary/ediary.db",
        PROCESSES=1,
        REDIS_URL=None,
        RATELIMIT_STORAGE_URI="memory://",
    )
    assert codes(single) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"DEBUG": True}, "debug"),
        ({"TESTING": True}, "testing"),
        ({"DEMO_MODE": True}, "demo-mode"),
        ({"SECRET_KEY": Config.SECRET_KEY}, "secret-key"),
        ({"SECRET_KEY": "Kx9!qT2z"}, "secret-key"),
        ({"SECRET_KEY": "ab" * 24}, "secret-key"),
        ({"SECRET_KEY": "our-school-ediary-secret-key-2026-mirzec"}, "secret-key"),
        ({"SESSION_COOKIE_SECURE": False}, "cookie-secure"),
        ({"SESSION_COOKIE_HTTPONLY": False}, "cookie-httponly"),
        ({"SESSION_COOKIE_SAMESITE": "None"}, "cookie-samesite"),
        ({"WTF_CSRF_ENABLED": False}, "csrf"),
        ({"SOCKETIO_ORIGINS": ["*"]}, "socketio-origins"),
        (
            {"SOCKETIO_ORIGINS": ["https://dziennik.gmina.pl", "https://*.gmina.pl"]},
            "socketio-origins",
        ),
        ({"SOCKETIO_ORIGINS": ["http://dziennik.gmina.pl"]}, "socketio-origins"),
        ({"PROCESSES": 0}, "processes"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "ratelimit-storage"),
        ({"DATABASE_URL": "sqlite:////var/lib/ediary/ediary.db"}, "sqlite-processes"),
        ({"REDIS_URL": None}, "redis"),
        ({"PROXIES": 0}, "proxies"),
        ({"PROXIES": 2}, "proxies"),
    ],
    ids=lambda value: value if isinstance(value, str) else "-".join(map(str, value)),
)
def test_each_unsafe_setting_is_refused(changes: dict[str, object], code: str) -> None:
    assert codes(safe_config(**changes)) == [code]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "ratelimit-storage"),
        ({"DATABASE_URL": "sqlite:////var/lib/ediary/ediary.db"}, "sqlite-processes"),
        ({"REDIS_URL": None}, "redis"),
    ],
)
def test_the_several_process_checks_pass_with_one_process(
    changes: dict[str, object], code: str
) -> None:
    assert codes(safe_config(PROCESSES=2, **changes)) == [code]
    assert codes(safe_config(PROCESSES=1, **changes)) == []


def test_flask_debug_in_the_environment_is_refused() -> None:
    assert codes(safe_config(), {"FLASK_DEBUG": "1"}) == ["debug"]
    assert codes(safe_config(), {"FLASK_DEBUG": "0"}) == []


def test_a_misspelt_variable_is_reported() -> None:
    misspelt = "EDIARY_" + "SESION_COOKIE_SECURE"  # built, so the scan below does not find it
    environ = {"EDIARY_SECRET_KEY": SECRET, misspelt: "true"}
    assert codes(safe_config(), environ) == ["unknown-setting"]
    assert codes(safe_config(), {"EDIARY_SECRET_KEY": SECRET, "EDIARY_BIND": "x"}) == []


@pytest.mark.parametrize(
    ("setting", "value"),
    [("fsync", "off"), ("synchronous_commit", "off"), ("full_page_writes", "off")],
)
def test_non_durable_postgresql_settings_are_refused(setting: str, value: str) -> None:
    assert codes(safe_config(), settings={**DURABLE_PG, setting: value}) == ["database-durability"]


@pytest.mark.parametrize(
    ("setting", "value"), [("synchronous", "1"), ("synchronous", "0"), ("journal_mode", "off")]
)
def test_non_durable_sqlite_settings_are_refused(setting: str, value: str) -> None:
    config = safe_config(DATABASE_URL="sqlite:////var/lib/ediary/ediary.db", PROCESSES=1)
    found = codes(config, settings={**DURABLE_SQLITE, setting: value})
    assert found == ["database-durability"]


def test_an_unreachable_database_is_a_problem() -> None:
    def unreachable(_config: Config) -> dict[str, str]:
        raise ConnectionError("connection refused")

    found = check_deploy(safe_config(), {}, read_database_settings=unreachable)
    assert found == [
        Problem("database-unreachable", "cannot read the database's settings: connection refused")
    ]


# -- against real databases ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_url(pg_server: str) -> Iterator[str]:
    url = make_pg_database(pg_server)
    yield url
    drop_pg_database(pg_server, url)


def test_postgresql_settings_are_read_from_the_server(pg_url: str) -> None:
    assert check_deploy(safe_config(DATABASE_URL=pg_url), {}) == []


def test_a_connection_that_turns_off_synchronous_commit_is_refused(pg_url: str) -> None:
    # A non-durable setting can come from the connection itself, e.g. options in the URL.
    url = pg_url + "?options=-c%20synchronous_commit%3Doff"
    found = check_deploy(safe_config(DATABASE_URL=url), {})
    assert [p.code for p in found] == ["database-durability"]
    assert "synchronous_commit=off" in found[0].message


def test_the_example_database_url_reaches_postgresql_through_its_local_socket(
    pg_url: str,
) -> None:
    # The example's URL with this machine's role and database in it: host, port and the rest are
    # the example's own (the socket's directory in the query, as libpq reads it).
    example = read_env_file(PROVISIONING / "server" / "ediary.env.example")["EDIARY_DATABASE_URL"]
    ours = make_url(pg_url)
    url = make_url(example).set(username=ours.username, database=ours.database)
    assert url.host is None and url.query == {"host": "/var/run/postgresql"}
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:  # no server address: not TCP
            assert connection.scalar(text("SELECT inet_server_addr() IS NULL")) is True
    finally:
        engine.dispose()
    assert (
        check_deploy(safe_config(DATABASE_URL=url.render_as_string(hide_password=False)), {}) == []
    )


def test_sqlite_settings_are_read_from_the_application_engine(tmp_path: Path) -> None:
    config = safe_config(DATABASE_URL=f"sqlite:///{tmp_path / 'ediary.db'}", PROCESSES=1)
    assert check_deploy(config, {}) == []


def test_an_unreachable_postgresql_is_a_problem() -> None:
    config = safe_config(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert [p.code for p in check_deploy(config, {})] == ["database-unreachable"]


# -- the command and the example settings file ---------------------------------------------------


@pytest.fixture
def example_env(tmp_path: Path, pg_url: str) -> Callable[..., Path]:
    """provisioning/server/ediary.env.example, filled in as the README says, plus `changes`."""

    def make(**changes: str) -> Path:
        lines = []
        for line in (PROVISIONING / "server" / "ediary.env.example").read_text().splitlines():
            name = line.split("=", 1)[0]
            if name == "EDIARY_SECRET_KEY":
                line = f"EDIARY_SECRET_KEY={SECRET}"
            elif name == "EDIARY_DATABASE_URL":
                line = f"EDIARY_DATABASE_URL={pg_url}"
            if name in changes:
                line = f"{name}={changes.pop(name)}"
            lines.append(line)
        lines += [f"{name}={value}" for name, value in changes.items()]
        path = tmp_path / "ediary.env"
        path.write_text("\n".join(lines) + "\n")
        return path

    return make


def test_the_example_settings_pass_once_filled_in(example_env: Callable[..., Path]) -> None:
    result = CliRunner().invoke(ediary_cli, ["check", "--deploy", "--env-file", str(example_env())])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: safe for production (2 process(es))")


def test_the_command_lists_every_problem_and_fails(example_env: Callable[..., Path]) -> None:
    path = example_env(EDIARY_DEBUG="true", EDIARY_SOCKETIO_ORIGINS="*")
    result = CliRunner().invoke(ediary_cli, ["check", "--deploy", "--env-file", str(path)])
    assert result.exit_code == 1
    assert "problem [debug]" in result.output
    assert "problem [socketio-origins]" in result.output
    assert "2 problem(s): not safe for production" in result.output


def test_the_command_reads_the_environment_as_the_service_would() -> None:
    # As installed: the `ediary` console script, settings in the environment.
    env = {
        "PATH": "/usr/bin:/bin",
        "EDIARY_DEBUG": "1",
        "EDIARY_PROCESSES": "1",
        "EDIARY_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from ediary.cli import main; main()", "check", "--deploy"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "[debug]" in result.stderr and "[secret-key]" in result.stderr


def test_every_ediary_variable_used_in_the_code_is_known_to_the_check() -> None:
    """Otherwise setting it on a server would be reported as a misspelling."""
    config_names = {f"EDIARY_{name}" for name in Config.__dataclass_fields__}
    used: set[str] = set()
    for path in [
        *ROOT.glob("ediary/**/*.py"),
        *ROOT.glob("provisioning/**/*"),
        *ROOT.glob("tests/**/*.py"),
    ]:
        if path.is_file() and path.suffix not in {".pyc"}:
            used |= set(
                re.findall(r"\bEDIARY_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(errors="ignore"))
            )
    unknown = {
        name
        for name in used
        if name not in config_names | KNOWN_OTHER_VARIABLES
        and not name.startswith(KNOWN_OTHER_PREFIXES)
    }
    assert unknown == set()
