"""The agent's lesson desk in-process, against a fake server, through the local UI as the page
uses it (issue 10): what the screen shows after an acknowledgement, a push and a new login;
conflicts decided with one tap; summaries by meaning; entries refused before the lesson opens;
a server bug parked and sent again at the next login; one key, one entry."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from kiosk.agent import Agent
from kiosk.config import Config
from kiosk.connection import LinkState
from kiosk.server import TOKEN_HEADER, create_app

ORIGIN = "http://127.0.0.1:8090"
NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # 10:00 in Warsaw
LESSON = 5
TYPES = [
    ("ob", "obecny", "present", False),
    ("nb", "nieobecny", "absent", False),
    ("sp", "spóźniony", "present", False),
    ("u", "nieobecny usprawiedliwiony", "absent", True),
    ("zw", "zwolniony", "present", True),
]


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


class FakeServer:
    """What the server answers the agent's calls; a test changes `attendance` or `answer`."""

    def __init__(self, starts: dt.datetime) -> None:
        self.online = True
        self.state = LinkState.ONLINE
        self.starts = starts
        self.attendance: dict[int, str | None] = {1: None, 2: None, 3: None}
        self.topic: str | None = None
        self.sent: list[dict[str, Any]] = []
        self.answer: Callable[[dict[str, Any]], dict[str, Any]] = self.applied

    def lesson(self) -> dict[str, Any]:
        return {
            "id": LESSON,
            "date": "2026-11-26",
            "slot_number": 2,
            "starts_at": iso(self.starts),
            "ends_at": iso(self.starts + dt.timedelta(minutes=45)),
            "opens_at": iso(self.starts - dt.timedelta(minutes=15)),
            "subject": "matematyka",
            "class": "5a",
            "group": None,
            "room": "12",
            "here": True,
            "status": "planned",
            "topic": self.topic,
            "substitution": False,
        }

    def applied(self, submission: dict[str, Any]) -> dict[str, Any]:
        payload = submission["payload"]
        states = {k: v for k, v in payload.get("states", {}).items()}
        return {
            "ok": True,
            "status": "applied",
            "key": submission["key"],
            "result": {"kind": "roll", "conflicts": [], "states": states, "topic": self.topic},
            "event_ids": [1],
            "delivered": False,
        }

    def call(self, event: str, data: Any, timeout: float | None = None) -> Any:
        if event == "teacher_login" or event == "pin_unlock":
            return {
                "ok": True,
                "session": "token-" + uuid.uuid4().hex[:6],
                "teacher": {"id": 3, "first_name": "Anna", "last_name": "Nowak"},
                "expires_at": iso(NOW + dt.timedelta(hours=12)),
                "pin_set": False,
                "lessons": [self.lesson()],
                "lesson_now": LESSON,
            }
        if event == "roster":
            return {
                "ok": True,
                "lesson": self.lesson(),
                "attendance_types": [
                    {"code": c, "name": n, "counts_as": m, "excused": e} for c, n, m, e in TYPES
                ],
                "default_code": "ob",
                "grade_categories": [{"id": 9, "name": "sprawdzian", "weight": 3}],
                "pupils": [
                    {"id": p, "first_name": f"Uczeń{p}", "last_name": "Nowak", "attendance": code}
                    for p, code in self.attendance.items()
                ],
            }
        if event == "submit":
            self.sent.append(copy.deepcopy(data))
            return self.answer(data)
        return {"ok": True}


@pytest.fixture
def server() -> FakeServer:
    return FakeServer(NOW - dt.timedelta(minutes=5))


@pytest.fixture
def agent(tmp_path: Path, server: FakeServer) -> Iterator[Agent]:
    agent = Agent(
        Config(state_dir=tmp_path / "state", server="http://127.0.0.1:9"),
        clock=lambda: NOW.timestamp(),
    )
    agent.connection = server  # type: ignore[assignment]
    yield agent
    agent.outbox.close()


class Screen:
    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.ui: FlaskClient = create_app(agent).test_client()
        html = self.ui.get("/", base_url=ORIGIN).get_data(as_text=True)
        self.token = html.split('name="kiosk-screen" content="')[1].split('"')[0]

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.ui.post(
            path, json=body, base_url=ORIGIN, headers={"Origin": ORIGIN, TOKEN_HEADER: self.token}
        )

    def ok(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 200, response.get_data(as_text=True)
        return dict(response.get_json())

    def state(self) -> dict[str, Any]:
        response = self.ui.get("/api/state", base_url=ORIGIN, headers={TOKEN_HEADER: self.token})
        return dict(response.get_json())

    def login(self) -> dict[str, Any]:
        self.ok("/api/login", {"login": "anna_nowak", "password": "haslo-haslo"})
        return self.ok("/api/lesson", {"lesson_id": LESSON})


def send_all(agent: Agent) -> None:
    while agent.outbox.next_unsent() is not None:
        agent.sender.step()


def roll(states: dict[int, str], base: dict[int, str | None], **more: Any) -> dict[str, Any]:
    return {
        "lesson_id": LESSON,
        "states": {str(k): v for k, v in states.items()},
        "base": {str(k): v for k, v in base.items()},
        **more,
    }


def test_the_summary_counts_by_meaning(agent: Agent) -> None:
    """Item 4: two absent and one late is not "3 nieobecnych"."""
    screen = Screen(agent)
    screen.login()
    entry = screen.ok("/api/roll", roll({1: "nb", 2: "nb", 3: "sp"}, dict.fromkeys((1, 2, 3))))
    assert entry["entry"]["summary"] == "Obecność: 2 nieobecnych, 1 inne (spóźniony)"
    excused = screen.ok("/api/roll", roll({1: "u"}, {1: "nb"}, topic="Ułamki", base_topic=None))
    assert excused["entry"]["summary"] == (
        "Obecność: 1 nieobecnych (w tym 1 usprawiedliwionych), temat: Ułamki"
    )


def test_an_acknowledged_roll_leaves_the_screen_to_the_servers_states(
    agent: Agent, server: FakeServer
) -> None:
    """Item 1: once on the server, a roll is no longer laid over the server's states; the
    acknowledgement says what the server has (here it kept an excuse made meanwhile)."""
    screen = Screen(agent)
    screen.login()
    conflict = {
        "pupil_id": 1,
        "base": None,
        "server": "u",
        "wanted": "nb",
        "by": "Jan Kowalski",
        "at": iso(NOW - dt.timedelta(minutes=2)),
        "channel": "web",
    }

    topic = {**conflict, "field": "topic", "base": None, "server": "Ułamki", "wanted": "Dzielenie"}
    del topic["pupil_id"]

    def kept(submission: dict[str, Any]) -> dict[str, Any]:
        ack = server.applied(submission)
        ack["result"].update(conflicts=[conflict, topic], states={"1": "u", "2": "nb"})
        return ack

    server.answer = kept
    body = roll({1: "nb", 2: "nb"}, {1: None, 2: None}, topic="Dzielenie", base_topic=None)
    saved = screen.ok("/api/roll", body)
    assert saved["attendance"] == {"1": "nb", "2": "nb"}  # on this computer, until sent
    send_all(agent)

    assert agent.roster(LESSON)["attendance"] == {"1": "u", "2": "nb"}
    view = screen.state()["session"]
    assert view["roster"]["attendance"] == {"1": "u", "2": "nb"}
    [entry] = view["entries"]
    assert entry["conflicts"] == [
        {
            "item": "1",
            "what": "Nowak Uczeń1",
            "wanted": "nieobecny",
            "server": "nieobecny usprawiedliwiony",
            "by": "Jan Kowalski",
            "at": "09:58",
            "channel": "przeglądarka",
            "decision": None,
        },
        {
            "item": "topic",
            "what": "Temat lekcji",
            "wanted": "Dzielenie",
            "server": "Ułamki",
            "by": "Jan Kowalski",
            "at": "09:58",
            "channel": "przeglądarka",
            "decision": None,
        },
    ]
    # The server's topic is kept: a decision, and nothing to send.
    screen.ok("/api/conflict", {"key": entry["key"], "item": "topic", "decision": "keep"})
    assert agent.outbox.counts()["saved"] == 0

    # One tap: the teacher's value after all, as a new roll whose base is the server's value.
    for _ in range(2):  # a second tap finds the decision made
        screen.ok("/api/conflict", {"key": entry["key"], "item": "1", "decision": "mine"})
    again = [e for e in agent.outbox.entries(lesson_id=LESSON) if e.key != entry["key"]]
    assert [(e.payload["states"], e.payload["base"]) for e in again] == [({"1": "nb"}, {"1": "u"})]
    decided = [e for e in screen.state()["session"]["entries"] if e["key"] == entry["key"]]
    assert [c["decision"] for c in decided[0]["conflicts"]] == ["mine", "keep"]
    refused = screen.post("/api/conflict", {"key": entry["key"], "item": "7", "decision": "mine"})
    assert refused.status_code == 400  # no such conflict


def test_a_new_login_shows_the_servers_current_states(agent: Agent, server: FakeServer) -> None:
    """Item 1, the issue's re-login: the kiosk's first roll was acknowledged long ago; since
    then an excuse and a change on the web. The screen shows them, not the old roll."""
    screen = Screen(agent)
    screen.login()
    screen.ok("/api/roll", roll({1: "nb"}, {1: None}))
    send_all(agent)
    screen.ok("/api/lock", {})
    server.attendance = {1: "u", 2: "zw", 3: "ob"}

    shown = screen.login()

    assert shown["attendance"] == {"1": "u", "2": "zw", "3": "ob"}


def test_pushed_changes_redraw_the_roster(agent: Agent) -> None:
    screen = Screen(agent)
    screen.login()
    agent._push(
        "event",
        {"id": 7, "type": "attendance.recorded", "lesson_id": LESSON, "pupil_id": 2, "code": "zw"},
    )
    agent._push("event", {"id": 8, "type": "lesson.topic", "lesson_id": LESSON, "topic": "Ułamki"})
    agent._push(
        "event",
        {"id": 9, "type": "attendance.recorded", "lesson_id": 99, "pupil_id": 2, "code": "nb"},
    )  # another lesson: not this roster
    view = screen.state()["session"]["roster"]
    assert view["attendance"] == {"2": "zw"} and view["topic"] == "Ułamki"
    # A new unlock reads the roster from the disk copy when the server is away: it follows too.
    assert agent.outbox.cache_get(f"roster:{LESSON}")["server_attendance"]["2"] == "zw"


def test_an_entry_before_the_lesson_opens_is_refused_at_once(
    agent: Agent, server: FakeServer
) -> None:
    """Item 3: the roster says when the lesson opens; the teacher is told at once."""
    server.starts = NOW + dt.timedelta(minutes=40)  # 10:40 in Warsaw: opens at 10:25
    screen = Screen(agent)
    screen.ok("/api/login", {"login": "anna_nowak", "password": "haslo-haslo"})
    screen.ok("/api/lesson", {"lesson_id": LESSON})
    body = {"lesson_id": LESSON, "pupil_id": 1, "category_id": 9, "value": "5"}

    refused = screen.post("/api/grade", body)

    assert refused.status_code == 400
    assert refused.get_json() == {
        "ok": False,
        "error": "lesson_not_started",
        "message": "Lekcja jeszcze się nie zaczęła. Wpisy do niej można dodawać od 10:25.",
    }
    assert agent.outbox.counts()["saved"] == 0


def test_a_server_bug_parks_the_entry_and_it_goes_again_at_the_next_login(
    agent: Agent, server: FakeServer
) -> None:
    """Item 5: `server_error` will be the same at the next try: parked, shown, no retry loop;
    the teacher's next login queues it again (a fix may be out by then)."""
    server.answer = lambda _s: {"ok": False, "error": "server_error", "message": "Błąd serwera."}
    screen = Screen(agent)
    screen.login()
    body = {"lesson_id": LESSON, "pupil_id": 2, "category_id": 9, "value": "4"}
    entry = screen.ok("/api/grade", body)["entry"]
    send_all(agent)

    [parked] = screen.state()["session"]["parked"]
    assert parked["key"] == entry["key"] and parked["refusal_code"] == "server_error"
    assert parked["refusal"] == (
        "Błąd serwera: wpisu nie przyjęto. Zostanie wysłany ponownie po następnym zalogowaniu."
    )
    assert agent.sender.step() == 60.0 and len(server.sent) == 1  # nothing to send: no loop

    server.answer = server.applied
    screen.ok("/api/lock", {})
    screen.login()
    send_all(agent)
    assert len(server.sent) == 2 and server.sent[1]["key"] == entry["key"]
    assert server.sent[1]["session"] != server.sent[0]["session"]  # the new login's session
    assert agent.outbox.get(entry["key"]).state.value in ("synced", "delivered")  # type: ignore[union-attr]


def test_an_entry_the_servers_clock_found_too_early_goes_again_at_the_next_login(
    agent: Agent, server: FakeServer
) -> None:
    server.answer = lambda _s: {
        "ok": False,
        "error": "lesson_not_started",
        "message": "Za wcześnie.",
    }
    screen = Screen(agent)
    screen.login()
    entry = screen.ok("/api/roll", roll({1: "nb"}, {1: None}))["entry"]
    send_all(agent)
    assert screen.state()["session"]["parked"][0]["refusal_code"] == "lesson_not_started"
    server.answer = server.applied
    screen.ok("/api/lock", {})
    screen.login()
    send_all(agent)
    assert [s["key"] for s in server.sent] == [entry["key"], entry["key"]]


def test_one_key_is_one_entry(agent: Agent) -> None:
    """Item 2: the key belongs to the opened dialog; the same request twice stores it once."""
    screen = Screen(agent)
    screen.login()
    key = str(uuid.uuid4())
    body = {"lesson_id": LESSON, "pupil_id": 1, "category_id": 9, "value": "5", "key": key}
    first = screen.ok("/api/grade", body)["entry"]
    second = screen.ok("/api/grade", body)["entry"]
    assert first["key"] == second["key"] == key
    assert agent.outbox.counts()["saved"] == 1
    other = screen.post("/api/grade", {**body, "value": "4"})
    assert other.status_code == 409 and other.get_json()["error"] == "key_reused"
    assert agent.outbox.counts()["saved"] == 1
