"""Access, generated from ediary/access/matrix.yaml: one test per (route, actor).

Forbidden must look exactly like missing: a 404 (never 403) whose page is the same as the page
for an object that does not exist. A route registered in the app but absent from the matrix
fails `test_every_route_is_in_the_matrix`, so no later route can skip its access table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from werkzeug.test import TestResponse

from ediary.db import db
from ediary.people.models import User
from tests.clock import DEFAULT
from tests.factories import World, make_world
from tests.html import comparable, csrf_token

MATRIX_FILE = Path(__file__).resolve().parent.parent / "ediary" / "access" / "matrix.yaml"
MATRIX: dict[str, Any] = yaml.safe_load(MATRIX_FILE.read_text(encoding="utf-8"))
ACTORS: list[str] = MATRIX["actors"]
ROUTES: list[dict[str, Any]] = MATRIX["routes"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# An id no test world reaches, inside a 32-bit integer column's range on every backend.
MISSING_ID = 2_000_000_000

CASES = [(route, actor) for route in ROUTES for actor in ACTORS]
CASE_IDS = [f"{route['method']} {route['path']} as {actor}" for route, actor in CASES]


def fill(template: str, world: World, missing: bool = False) -> str:
    """`/pupils/{pupil}` → `/pupils/17`; with `missing`, every object becomes a missing one."""

    def object_id(match: re.Match[str]) -> str:
        return str(MISSING_ID if missing else getattr(world, match.group(1)).id)

    return PLACEHOLDER.sub(object_id, template)


def send(
    client: FlaskClient, route: dict[str, Any], world: World, missing: bool = False
) -> TestResponse:
    path = fill(route["path"], world, missing)
    if route["method"] == "GET":
        return client.get(path)
    # A valid token of the actor's own session: the test is about scope, not about CSRF.
    data = {fill(k, world): fill(str(v), world) for k, v in route.get("form", {}).items()}
    data["csrf_token"] = csrf_token(client, "/login")
    return client.open(path, method=route["method"], data=data)


@pytest.fixture(scope="module")
def shared_world(app: Flask) -> Iterator[tuple[World, Connection]]:
    """One world per backend for the whole matrix, in a transaction that is never committed.

    The matrix is hundreds of tests that only read (or write and roll back); building the world
    for each would be most of the suite's time. Each test runs in a savepoint of this transaction
    (see `session`), so a test that writes (logout, a roll) leaves nothing for the next.
    """
    engine = db.engine
    assert engine is not None
    connection = engine.connect()
    outer = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    # Built before any test's clock is set (a module fixture): under the same instant, so its
    # lessons are on the pinned day.
    with app.app_context(), time_machine.travel(DEFAULT.utc, tick=True):
        world = make_world()
        db.session.commit()  # releases the session's savepoint; the outer transaction stays
    db.session.remove()
    yield world, connection
    outer.rollback()
    connection.close()
    db.session.configure(bind=engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def session(app: Flask, shared_world: tuple[World, Connection]) -> Iterator[object]:
    """Overrides conftest's `session` for this module: a savepoint of the shared world."""
    _world, connection = shared_world
    savepoint = connection.begin_nested()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    with app.app_context():
        yield db.session
    db.session.remove()
    savepoint.rollback()


@pytest.fixture
def world(shared_world: tuple[World, Connection], session: object) -> World:
    return shared_world[0]


def goes_to_login(response: TestResponse) -> bool:
    return urlsplit(response.headers.get("Location", "")).path == "/login"


@pytest.mark.parametrize(("route", "actor"), CASES, ids=CASE_IDS)
def test_route_as_actor(
    route: dict[str, Any],
    actor: str,
    school_hours: object,  # the lesson's roll is open (it refuses entries before the bell)
    world: World,
    client: FlaskClient,
    login_as: Callable[[User], FlaskClient],
) -> None:
    expected = route["expect"][actor]
    if actor != "anonymous":
        login_as(getattr(world, actor))
    response = send(client, route, world)
    if expected == "login":
        assert response.status_code == 302 and goes_to_login(response), response.status_code
        return
    assert response.status_code == expected
    if expected == 302:
        assert not goes_to_login(response), "the actor was sent to log in again"
    if expected == 404:
        missing = send(client, route, world, missing=True)
        assert missing.status_code == 404
        assert comparable(response.get_data(as_text=True)) == comparable(
            missing.get_data(as_text=True)
        ), "a forbidden object's page differs from a missing object's"


def test_matrix_names_every_actor_for_every_route() -> None:
    allowed = {"login", 200, 302, 400, 404, 405}
    for route in ROUTES:
        assert sorted(route["expect"]) == sorted(ACTORS), route["name"]
        assert set(route["expect"].values()) <= allowed, route["name"]
        assert 403 not in route["expect"].values(), "forbidden is 404 here, never 403"


def test_matrix_objects_exist_in_the_world(world: World) -> None:
    for route in ROUTES:
        texts = [
            route["path"],
            *map(str, route.get("form", {})),
            *map(str, route.get("form", {}).values()),
        ]
        for name in (n for text in texts for n in PLACEHOLDER.findall(text)):
            assert hasattr(getattr(world, name, None), "id"), (
                f"{route['name']}: no world object {name}"
            )


def _exempt(endpoint: str, method: str) -> bool:
    return any(
        entry["endpoint"] == endpoint and entry.get("method", method) == method
        for entry in MATRIX["unscoped"]
    )


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    adapter = app.url_map.bind("localhost")
    covered = set()
    for route in ROUTES:
        path = urlsplit(PLACEHOLDER.sub("1", route["path"])).path
        endpoint, _ = adapter.match(path, method=route["method"])
        covered.add((endpoint, route["method"]))
    missing = sorted(
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
        if (rule.endpoint, method) not in covered and not _exempt(rule.endpoint, method)
    )
    assert not missing, f"routes missing from {MATRIX_FILE.name}: {missing}"
    for entry in MATRIX["unscoped"]:
        assert entry.get("why"), f"{entry['endpoint']}: an unscoped route needs its reason"


# Ids past what the database's integer holds: PostgreSQL's `integer` (most tables), its `bigint`
# (history, journal), SQLite's 64-bit integer, and more digits than any of them.
HUGE_IDS = (2**31, 2**63 - 1, 2**63, 10**20)
INT_ARGUMENT = re.compile(r"<int:\w+>")
# The world's object behind each URL argument, for the query-parameter half of the crawl.
ARGUMENT_OBJECTS = {
    "pupil_id": "pupil",
    "class_id": "class_a",
    "school_id": "school",
    "district_id": "district",
    "lesson_id": "lesson",
    "kiosk_id": "kiosk",
    "year_id": "year",
    "member_id": "secretary",  # the staff console (tests/staff)
    "user_id": "parent",  # a guardian (contacts: /office/guardians/<user_id>/contacts)
    "subject_id": "math",  # gradebook
    "homework_id": "lesson",  # the world has no announcement: an id of nothing, 404 alike
    # The world has no final grade: any id is a missing one (the director's correction of a
    # real one: tests/classification/test_pages.py).
    "grade_id": "lesson",
}

# Ids of objects the world has none of (their own tests cover them with real objects).
NO_WORLD_OBJECT = ("excuse_id", "thread_id", "attachment_id", "announcement_id")


def _int_routes(app: Flask) -> list[tuple[str, str]]:
    routes = [
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if INT_ARGUMENT.search(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    assert len(routes) >= 15, routes  # the crawl must not silently find nothing
    return routes


@pytest.mark.parametrize("actor", ACTORS)
def test_ids_past_the_database_integer_are_missing_pages_for_every_actor(
    actor: str,
    app: Flask,
    world: World,
    client: FlaskClient,
    login_as: Callable[[User], FlaskClient],
) -> None:
    if actor != "anonymous":
        login_as(getattr(world, actor))
    token = csrf_token(client, "/login")
    for rule, method in _int_routes(app):
        for huge in HUGE_IDS:
            path = INT_ARGUMENT.sub(str(huge), rule)
            response = client.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (method, path, response.status_code)
        if method != "GET" or any(f"<int:{name}>" in rule for name in NO_WORLD_OBJECT):
            continue
        # A real object, with `?before=` (history) and `?term=` (cards) past every integer: a
        # page that reads them answers as for a missing object, any other ignores them.
        path = INT_ARGUMENT.sub(
            lambda m: str(getattr(world, ARGUMENT_OBJECTS[m.group(0)[5:-1]]).id), rule
        )
        plain = client.get(path).status_code
        for query in (f"before={2**63}", f"term={2**31}", f"before={10**20}&term={10**20}"):
            response = client.get(f"{path}?{query}")
            assert response.status_code in (plain, 404), (path, query, response.status_code)


@pytest.mark.parametrize(
    ("actor", "page"),
    [
        ("teacher", "/pupils/{pupil}/history?before=9223372036854775808"),
        ("teacher", "/pupils/{pupil}?term=2147483648"),
        ("parent", "/portal/{pupil}/history?before=99999999999999999999"),
        ("parent", "/portal/{pupil}/grades?term=9223372036854775808"),
        ("parent", "/portal/{pupil}/history?before=-1"),
        ("parent", "/portal/{pupil}?term=%C2%B2"),  # "²": a digit to str.isdigit, not to int()
    ],
)
def test_a_query_id_past_the_database_integer_is_a_missing_page(
    actor: str,
    page: str,
    world: World,
    client: FlaskClient,
    login_as: Callable[[User], FlaskClient],
) -> None:
    login_as(getattr(world, actor))
    assert client.get(fill(page.split("?")[0], world)).status_code == 200
    assert client.get(fill(page, world)).status_code == 404
