"""Fixtures: `app` per database backend, `db` (one rolled-back transaction per test), `client`,
`login_as`, `world` (a small school built with the factories) and `commits` (how many a request
made).

Every in-process test runs with "now" pinned (`clock`, tests/clock.py); `@pytest.mark.calendar`
runs a test across the calendar sweep.

Backends come from EDIARY_TEST_BACKENDS (default "sqlite,postgresql"). PostgreSQL is the
machine's server on 127.0.0.1:5432 (EDIARY_TEST_PG_URL to change it); each run creates and drops
its own database. Without PostgreSQL the PostgreSQL half is skipped locally and fails under CI=true.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import ediary.models  # noqa: F401 - every table known to create_all in every test module
from ediary import create_app, transactions
from ediary.config import Config
from ediary.db import Base, db
from ediary.people.models import User
from ediary.realtime import delivery
from ediary.realtime.controls import Control
from tests import factories
from tests.clock import clock, pytest_generate_tests, share_the_clock  # noqa: F401 - the sweep
from tests.servers import drop_pg_database, make_pg_database, postgres_unreachable

PG_ADMIN_URL = os.environ.get(
    "EDIARY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [b for b in os.environ.get("EDIARY_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
IN_CI = os.environ.get("CI", "").lower() == "true"

share_the_clock()  # before any test, world or server reads the time

# As `create_app` does: tests that write through a bare app (`bound_to`, a seed) need the hooks.
transactions.install()


def test_config(database_url: str, **overrides: object) -> Config:
    """A configuration for tests: cheap password hashing, no rate limits unless a test asks."""
    return Config(
        DATABASE_URL=database_url,
        TESTING=True,
        SECRET_KEY="test-secret-" + uuid.uuid4().hex,
        ARGON2_TIME_COST=1,
        ARGON2_MEMORY_KIB=8,
        ARGON2_PARALLELISM=1,
        **overrides,  # type: ignore[arg-type]
    )


@contextmanager
def app_bound_to(database_url: str, **overrides: object) -> Iterator[Flask]:
    """The site's app on another database (a file that a real server or a command will read), in
    an app context for the `with` block; create_app rebinds the process-wide `db`, so it is
    bound back to what it was afterwards."""
    previous = db.engine
    app = create_app(test_config(database_url, **overrides))
    try:
        with app.app_context():
            yield app
    finally:
        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
        if previous is not None:
            db.bind(previous)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of a reachable PostgreSQL, or skip (fail under CI=true)."""
    unreachable = postgres_unreachable(PG_ADMIN_URL)
    if unreachable:
        if IN_CI:
            pytest.fail(unreachable)
        pytest.skip(unreachable)
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """Makes empty databases of a backend; PostgreSQL ones are dropped at the end."""
    made: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'ediary.db'}"
        url = make_pg_database(PG_ADMIN_URL)
        made.append(url)
        return url

    yield make
    for url in made:
        drop_pg_database(PG_ADMIN_URL, url)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    return str(request.param)


@pytest.fixture(scope="session")
def app(backend: str, fresh_database_url: Callable[[str], str]) -> Iterator[Flask]:
    app = create_app(test_config(fresh_database_url(backend)))
    engine = db.engine
    assert engine is not None
    Base.metadata.create_all(engine)
    yield app
    engine.dispose()  # its own engine: `db` may be bound to another one by now


@pytest.fixture(autouse=True)
def _db_bound_back() -> Iterator[None]:
    """create_app rebinds the process-wide `db`. A test that makes an app of its own and leaves
    it bound would run the next tests on its engine, and drop the session's engine unclosed: its
    pooled PostgreSQL connections were then collected open, a ResourceWarning failing whichever
    later test the garbage collector happened to run in."""
    saved = db.engine
    yield
    if db.engine is not saved:
        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
        if saved is not None:
            db.bind(saved)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement sent to any database while the test runs."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    yield sent
    event.remove(Engine, "before_cursor_execute", note)


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def session(app: Flask) -> Iterator[object]:
    """One transaction per test, rolled back at the end; commits inside become savepoints."""
    engine = db.engine
    assert engine is not None
    connection = engine.connect()
    outer = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    with app.app_context():
        yield db.session
    db.session.remove()
    outer.rollback()
    connection.close()
    db.session.configure(bind=engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def school_hours(time_machine: Any) -> dt.datetime:
    """The clock moved (and ticking) to 10:00 of the pinned day at the school: the world's lesson
    (8:00) has begun, so entries are open. It moves the test's own time-machine, so a test can
    still `time_machine.shift(...)` on from there. In-process only: a server process started by
    a test keeps the suite's shared clock."""
    zone = ZoneInfo("Europe/Warsaw")
    at = dt.datetime.combine(dt.datetime.now(zone).date(), dt.time(10), tzinfo=zone)
    time_machine.move_to(at, tick=True)
    return at


@pytest.fixture
def world(session: object) -> factories.World:
    return factories.make_world()


@pytest.fixture
def rings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, list[Control]]]:
    """What each commit rings the relays with (`(newest id, controls)`), instead of ringing."""
    heard: list[tuple[int | None, list[Control]]] = []
    monkeypatch.setattr(
        delivery, "ring", lambda newest, controls, _rows=(): heard.append((newest, controls))
    )
    return heard


@pytest.fixture
def commits(session: Session) -> Iterator[list[int]]:
    """Counts the commits of the test's session: a request commits once (house rule 2)."""
    seen: list[int] = []

    def count(_session: Session) -> None:
        seen.append(1)

    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


class FreshGlobalsClient(FlaskClient):
    """Each request starts with an empty `flask.g`, as in production.

    The `session` fixture keeps an app context open for the whole test, and Flask reuses an open
    app context for requests, so `g` (where Flask-WTF caches the CSRF token) would leak between
    requests of one test.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask, session: object) -> FlaskClient:
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[User], FlaskClient]:
    def login(user: User) -> FlaskClient:
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = user.get_id()
            flask_session["_fresh"] = True
            # Staff roles need a second factor: a test session counts it as passed (the real
            # flow, with codes from pyotp, is tested in tests/staff/test_twofactor.py).
            flask_session["second_factor_passed"] = True
        return client

    return login


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """One Playwright per test process, shared by every browser test.

    Playwright's sync API refuses to start while another instance runs in the same thread, so
    modules that each start their own break each other when pytest-xdist puts them in one worker.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
