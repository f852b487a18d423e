"""The local UI's guards, in-process: Host and Origin pinned, bodies bounded, nothing cached,
no cookies, a page load locks, a stale screen is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kiosk.agent import Agent
from kiosk.config import Config
from kiosk.desk import TeacherSession
from kiosk.server import TOKEN_HEADER, create_app

ORIGIN = "http://127.0.0.1:8090"


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    agent = Agent(Config(state_dir=tmp_path / "state", server="http://127.0.0.1:9"))
    yield agent
    agent.outbox.close()


@pytest.fixture
def ui(agent: Agent) -> FlaskClient:
    return create_app(agent).test_client()


def page_token(ui: FlaskClient) -> str:
    response = ui.get("/", base_url=ORIGIN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html.split('name="kiosk-screen" content="')[1].split('"')[0]


def post(ui: FlaskClient, path: str, json: object, token: str, **headers: str) -> object:
    return ui.post(
        path, json=json, base_url=ORIGIN, headers={"Origin": ORIGIN, TOKEN_HEADER: token, **headers}
    )


def test_page_is_served_with_no_store_and_no_cookie(ui: FlaskClient) -> None:
    response = ui.get("/", base_url=ORIGIN)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert 'lang="pl"' in response.get_data(as_text=True)
    static = ui.get("/static/kiosk.js", base_url=ORIGIN)
    assert static.status_code == 200 and static.headers["Cache-Control"] == "no-store"
    static.close()


@pytest.mark.parametrize(
    "host", ["localhost:8090", "127.0.0.1:8091", "evil.example:8090", "127.0.0.1", "[::1]:8090"]
)
def test_wrong_host_is_refused(ui: FlaskClient, host: str) -> None:
    assert ui.get("/", base_url=ORIGIN, headers={"Host": host}).status_code == 403
    assert ui.get("/api/state", base_url=ORIGIN, headers={"Host": host}).status_code == 403


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:8090",
        "http://evil.example",
        "null",
        "http://127.0.0.1:8091",
        "https://127.0.0.1:8090",
    ],
)
def test_wrong_origin_is_refused(ui: FlaskClient, origin: str) -> None:
    token = page_token(ui)
    response = post(ui, "/api/login", {"login": "a", "password": "b"}, token, Origin=origin)
    assert response.status_code == 403  # type: ignore[attr-defined]
    get = ui.get("/api/state", base_url=ORIGIN, headers={"Origin": origin, TOKEN_HEADER: token})
    assert get.status_code == 403


def test_a_write_without_origin_is_refused(ui: FlaskClient) -> None:
    token = page_token(ui)
    response = ui.post("/api/lock", json={}, base_url=ORIGIN, headers={TOKEN_HEADER: token})
    assert response.status_code == 403


def test_cross_site_fetch_metadata_is_refused(ui: FlaskClient) -> None:
    token = page_token(ui)
    response = post(ui, "/api/lock", {}, token, **{"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403  # type: ignore[attr-defined]


def test_oversized_body_is_refused(ui: FlaskClient) -> None:
    token = page_token(ui)
    response = post(ui, "/api/remark", {"text": "x" * 100_000}, token)
    assert response.status_code == 413  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/unlock", {"teacher_id": "1", "pin": "1234"}),
        ("/api/unlock", {"teacher_id": True, "pin": "1234"}),
        ("/api/lesson", {"lesson_id": [1]}),
        ("/api/roll", {"lesson_id": 1, "states": [], "topic": ""}),
        ("/api/grade", {"lesson_id": 1, "pupil_id": 1, "value": 5}),
        ("/api/login", {"login": 1, "password": "x"}),
        ("/api/login", ["not", "an", "object"]),
    ],
)
def test_wrong_types_are_refused(ui: FlaskClient, path: str, body: object) -> None:
    token = page_token(ui)
    response = post(ui, path, body, token)
    assert response.status_code in (400, 401)  # type: ignore[attr-defined]
    assert response.get_json()["ok"] is False  # type: ignore[attr-defined]


def test_non_json_is_refused(ui: FlaskClient) -> None:
    token = page_token(ui)
    response = ui.post(
        "/api/login",
        data="login=a&password=b",
        base_url=ORIGIN,
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": ORIGIN, TOKEN_HEADER: token},
    )
    assert response.status_code == 415


def test_a_page_load_locks_and_an_old_page_is_stale(ui: FlaskClient, agent: Agent) -> None:
    first = page_token(ui)
    agent.session = TeacherSession(
        teacher_id=1,
        name="Anna Nowak",
        mode="online",
        token="t",
        expires_at=agent.clock() + 3600,
        lessons=[],
    )
    state = ui.get("/api/state", base_url=ORIGIN, headers={TOKEN_HEADER: first}).get_json()
    assert state["session"]["teacher"] == "Anna Nowak"
    second = page_token(ui)  # the browser restarted
    assert agent.session is None
    stale = ui.get("/api/state", base_url=ORIGIN, headers={TOKEN_HEADER: first})
    assert stale.status_code == 409
    fresh = ui.get("/api/state", base_url=ORIGIN, headers={TOKEN_HEADER: second}).get_json()
    assert fresh["session"] is None
    assert ui.get("/api/state", base_url=ORIGIN).status_code == 409  # no token at all


def test_entries_need_a_teacher(ui: FlaskClient) -> None:
    token = page_token(ui)
    response = post(ui, "/api/roll", {"lesson_id": 1, "states": {}, "topic": "x"}, token)
    assert response.status_code == 401  # type: ignore[attr-defined]
