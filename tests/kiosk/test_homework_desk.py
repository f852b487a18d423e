"""The kiosk's "Zapowiedź" dialog in-process (issue 18), through the local UI as the page uses
it, against the fake server of test_roll_desk.py: the days come from `homework_dates`; a test on
a day the server warned about is refused by the agent until confirmed, and nothing is kept
before; the entry's payload is the protocol's `homework`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.agent import Agent
from kiosk.config import Config
from tests.kiosk.test_roll_desk import LESSON, NOW, FakeServer, Screen, send_all

WARNING = "Sprawdzianów klasy w tym tygodniu jest już: 3 (limit statutu: 3)."


class AnnouncingServer(FakeServer):
    def call(self, event: str, data: Any, timeout: float | None = None) -> Any:
        if event == "homework_dates":
            return {
                "ok": True,
                "today": "2026-11-26",
                "lessons": [
                    {"lesson_id": 51, "date": "2026-11-30", "slot_number": 1, "test_warnings": []},
                    {
                        "lesson_id": 52,
                        "date": "2026-12-03",
                        "slot_number": 1,
                        "test_warnings": [WARNING],
                    },
                ],
            }
        return super().call(event, data, timeout)

    def applied(self, submission: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "status": "applied",
            "key": submission["key"],
            "result": {"kind": "homework", "homework_id": 5, "version": 1},
            "event_ids": [1],
            "delivered": False,
        }


@pytest.fixture
def server() -> AnnouncingServer:
    return AnnouncingServer(NOW - dt.timedelta(minutes=5))


@pytest.fixture
def agent(tmp_path: Path, server: AnnouncingServer) -> Iterator[Agent]:
    agent = Agent(
        Config(state_dir=tmp_path / "state", server="http://127.0.0.1:9"),
        clock=lambda: NOW.timestamp(),
    )
    agent.connection = server  # type: ignore[assignment]
    yield agent
    agent.outbox.close()


def _announce(screen: Screen, **fields: Any) -> Any:
    body = {"lesson_id": LESSON, "kind": "test", "date": "2026-12-03", "description": "Potęgi"}
    return screen.post("/api/homework", {**body, **fields})


def test_a_warned_test_waits_for_the_confirmation(agent: Agent, server: AnnouncingServer) -> None:
    screen = Screen(agent)
    screen.login()
    days = screen.ok("/api/homework/dates", {"lesson_id": LESSON})["lessons"]
    assert [d["date"] for d in days] == ["2026-11-30", "2026-12-03"]
    refused = _announce(screen)
    assert refused.status_code == 409
    assert refused.get_json() == {"ok": False, "error": "test_limit", "message": WARNING}
    assert agent.outbox.next_unsent() is None  # nothing kept before the "yes"
    entry = screen.ok("/api/homework", {**_announce_body(), "confirm": True})["entry"]
    assert entry["summary"].startswith("Sprawdzian 03.12")
    # A kartkówka is not counted: no confirmation needed.
    screen.ok("/api/homework", {**_announce_body(), "kind": "quiz"})
    send_all(agent)
    sent = [(s["kind"], s["payload"]) for s in server.sent]
    assert sent == [
        ("homework", {"homework_kind": "test", "date": "2026-12-03", "description": "Potęgi",
                      "confirm": True}),
        ("homework", {"homework_kind": "quiz", "date": "2026-12-03", "description": "Potęgi"}),
    ]  # fmt: skip


def _announce_body() -> dict[str, Any]:
    return {"lesson_id": LESSON, "kind": "test", "date": "2026-12-03", "description": "Potęgi"}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"date": "2026-12-01"}, "invalid"),  # not a day the server offered
        ({"kind": "exam"}, "invalid"),
        ({"description": "  "}, "homework_empty"),
        ({"kind": "homework", "date": "2026-11-30"}, "due_date_invalid"),  # no due date
        ({"kind": "homework", "date": "2026-11-30", "due_date": "2026-11-29"}, "due_date_invalid"),
    ],
)
def test_the_dialogs_mistakes_keep_nothing(agent: Agent, fields: dict[str, Any], code: str) -> None:
    screen = Screen(agent)
    screen.login()
    screen.ok("/api/homework/dates", {"lesson_id": LESSON})
    response = _announce(screen, **fields)
    assert response.status_code == 400 and response.get_json()["error"] == code
    assert agent.outbox.next_unsent() is None
