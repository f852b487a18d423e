"""The grade dialog's entries in-process (issue 15, item 4), through the local UI as the page
uses it, against the fake server of test_roll_desk.py: the payloads of a correction, a
withdrawal, a poprawa and a descriptive grade; the version a correction sends follows the
server's acknowledgements; every refusal keeps nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.agent import Agent
from kiosk.config import Config
from tests.kiosk.test_roll_desk import LESSON, NOW, FakeServer, Screen, send_all

MINE, THEIRS, OTHER_PUPIL = 41, 42, 43


class GradingServer(FakeServer):
    def call(self, event: str, data: Any, timeout: float | None = None) -> Any:
        answer = super().call(event, data, timeout)
        if event == "roster":
            grade = {"category_id": 9, "description": None, "descriptive": None}
            answer["pupils"][0]["grades"] = [
                {
                    **grade,
                    "id": MINE,
                    "value": "2",
                    "given_on": "2026-11-26",
                    "version": 1,
                    "mine": True,
                },
                {
                    **grade,
                    "id": THEIRS,
                    "value": "3",
                    "given_on": "2026-11-02",
                    "version": 4,
                    "mine": False,
                },
            ]
            answer["pupils"][1]["grades"] = [
                {
                    **grade,
                    "id": OTHER_PUPIL,
                    "value": "5",
                    "given_on": "2026-11-02",
                    "version": 1,
                    "mine": True,
                },
            ]
        return answer

    def applied(self, submission: dict[str, Any]) -> dict[str, Any]:
        payload = submission["payload"]
        grade_id = payload.get("grade_id", 77)
        version = payload.get("base_version", 0) + 1
        return {
            "ok": True,
            "status": "applied",
            "key": submission["key"],
            "result": {
                "kind": submission["kind"],
                "grade_id": grade_id,
                "pupil_id": 1,
                "version": version,
            },
            "event_ids": [1],
            "delivered": False,
        }


@pytest.fixture
def server() -> GradingServer:
    import datetime as dt

    return GradingServer(NOW - dt.timedelta(minutes=5))


@pytest.fixture
def agent(tmp_path: Path, server: GradingServer) -> Iterator[Agent]:
    agent = Agent(
        Config(state_dir=tmp_path / "state", server="http://127.0.0.1:9"),
        clock=lambda: NOW.timestamp(),
    )
    agent.connection = server  # type: ignore[assignment]
    yield agent
    agent.outbox.close()


def test_the_dialog_lists_the_pupils_grades_with_what_may_be_done(agent: Agent) -> None:
    screen = Screen(agent)
    screen.login()
    listed = screen.ok("/api/grades", {"lesson_id": LESSON, "pupil_id": 1})["grades"]
    assert [(g["id"], g["mine"], g["today"]) for g in listed] == [
        (MINE, True, True),
        (THEIRS, False, False),
    ]


def test_a_correction_sends_the_shown_version_and_the_next_one_the_acknowledged(
    agent: Agent, server: GradingServer
) -> None:
    screen = Screen(agent)
    screen.login()
    body = {
        "lesson_id": LESSON,
        "grade_id": MINE,
        "category_id": 9,
        "value": "3",
        "description": "",
    }
    first = screen.ok("/api/grade/correct", body)["entry"]
    assert first["summary"].startswith("Korekta 2 → 3")
    send_all(agent)
    screen.ok("/api/grade/correct", {**body, "value": "3+"})
    send_all(agent)
    sent = [s["payload"] for s in server.sent]
    assert [(p["grade_id"], p["base_version"], p["value"]) for p in sent] == [
        (MINE, 1, "3"),
        (MINE, 2, "3+"),
    ]


def test_withdrawal_poprawa_and_descriptive_payloads(agent: Agent, server: GradingServer) -> None:
    screen = Screen(agent)
    screen.login()
    screen.ok("/api/grade/remove", {"lesson_id": LESSON, "grade_id": MINE})
    improved = screen.ok(
        "/api/grade",
        {
            "lesson_id": LESSON,
            "pupil_id": 1,
            "category_id": 9,
            "value": "4",
            "description": "",
            "improves_id": THEIRS,
        },
    )["entry"]
    assert improved["summary"].startswith("Poprawa 3 → 4")
    screen.ok(
        "/api/grade",
        {
            "lesson_id": LESSON,
            "pupil_id": 2,
            "category_id": None,
            "value": "",
            "description": "",
            "descriptive": "  Pięknie czyta.  ",
        },
    )
    send_all(agent)
    kinds = [(s["kind"], s["payload"]) for s in server.sent]
    assert kinds[0] == ("grade_removal", {"grade_id": MINE, "base_version": 1})
    assert kinds[1][0] == "grade" and kinds[1][1]["improves_id"] == THEIRS
    assert kinds[2][1]["descriptive"] == "Pięknie czyta." and "value" not in kinds[2][1]
    # The withdrawn grade is gone from the dialog; the new ones are listed as the teacher's.
    listed = screen.ok("/api/grades", {"lesson_id": LESSON, "pupil_id": 1})["grades"]
    assert MINE not in [g["id"] for g in listed]


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/grade/correct", {"grade_id": THEIRS, "value": "4"}, "not_own"),
        ("/api/grade/remove", {"grade_id": THEIRS}, "not_own"),
        ("/api/grade/correct", {"grade_id": 999, "value": "4"}, "invalid"),
        ("/api/grade/correct", {"grade_id": MINE, "value": "7"}, "invalid"),
        ("/api/grade", {"pupil_id": 1, "value": "4", "improves_id": OTHER_PUPIL}, "invalid"),
        ("/api/grade", {"pupil_id": 1, "value": "", "descriptive": "   "}, "invalid"),
        ("/api/grade", {"pupil_id": 1, "value": "", "descriptive": "x" * 2001}, "invalid"),
    ],
)
def test_refusals_keep_nothing(agent: Agent, path: str, body: dict[str, Any], code: str) -> None:
    screen = Screen(agent)
    screen.login()
    response = screen.post(
        path, {"lesson_id": LESSON, "category_id": None, "description": "", **body}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == code
    assert agent.outbox.next_unsent() is None
