"""When the screen locks, with a fake clock: idle, the end of the lesson, the 12-hour logout, a
page load, and revocation (which keeps the entries). In-process, no server: the rules only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import credential
from kiosk.agent import Agent
from kiosk.config import Config
from kiosk.desk import TeacherSession, UserError


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def agent(tmp_path: Path, clock: Clock) -> Iterator[Agent]:
    state = tmp_path / "state"
    credential.save(state, credential.Credential(kiosk_id=1, secret="s" * 43, server="http://x"))
    agent = Agent(
        Config(state_dir=state, idle_lock_seconds=180, lesson_end_grace_seconds=300), clock=clock
    )
    yield agent
    agent.outbox.close()


def iso(clock: Clock, minutes: float) -> str:
    return dt.datetime.fromtimestamp(clock.now + minutes * 60, dt.UTC).isoformat()


def unlock(agent: Agent, clock: Clock, ends_in_minutes: float = 30) -> TeacherSession:
    lesson = {
        "id": 5,
        "here": True,
        "starts_at": iso(clock, -15),
        "ends_at": iso(clock, ends_in_minutes),
    }
    roster = {
        "lesson": lesson,
        "pupils": [{"id": 1, "name": "Nowak Ala"}],
        "types": [{"code": "ob", "name": "obecny"}, {"code": "nb", "name": "nieobecny"}],
        "default_code": "ob",
        "categories": [],
        "server_attendance": {},
    }
    session = TeacherSession(
        teacher_id=3,
        name="Anna Nowak",
        mode="offline_pin",
        token="tok",
        expires_at=clock.now + 12 * 3600,
        lessons=[lesson],
        rosters={5: roster},
    )
    agent.session = session
    agent.touch()
    agent.open_lesson(5, auto=True)
    return session


def test_idle_locks_after_the_configured_time_and_input_postpones_it(
    agent: Agent, clock: Clock
) -> None:
    unlock(agent, clock)
    clock.now += 170
    agent.tick()
    assert agent.session is not None
    agent.touch()  # a tap
    clock.now += 170
    agent.tick()
    assert agent.session is not None
    clock.now += 11
    agent.tick()
    assert agent.session is None
    assert agent.notice == "Ekran zablokowany po 3 min bezczynności."


def test_the_end_of_the_lesson_locks_after_the_grace(agent: Agent, clock: Clock) -> None:
    unlock(agent, clock, ends_in_minutes=2)
    for _ in range(6):  # busy typing through the bell and after it
        clock.now += 60
        agent.touch()
        agent.tick()
    assert agent.session is not None  # 2 min of lesson + 4 of the 5 min grace
    clock.now += 61
    agent.touch()
    agent.tick()
    assert agent.session is None
    assert agent.notice == "Ekran zablokowany po zakończeniu lekcji."


def test_the_hard_logout_ends_the_offline_pin_too(agent: Agent, clock: Clock) -> None:
    session = unlock(agent, clock)
    session.lock_at = None
    agent.pins.remember(3, "Anna Nowak", "2468", agent.today(), {"expires_at": session.expires_at})
    clock.now += 12 * 3600
    agent.touch()
    agent.tick()
    assert agent.session is None
    assert not agent.pins.has(3, agent.today())


def test_a_page_load_locks_and_entries_need_a_teacher(agent: Agent, clock: Clock) -> None:
    unlock(agent, clock)
    agent.submit_roll(5, {"1": "nb"}, {"1": None}, "Temat")
    agent.hello()
    assert agent.session is None
    with pytest.raises(UserError) as refused:
        agent.submit_roll(5, {"1": "nb"}, {"1": None}, "Temat")
    assert refused.value.status == 401
    assert agent.outbox.counts()["saved"] == 1


def test_revocation_drops_everything_but_the_entries(agent: Agent, clock: Clock) -> None:
    unlock(agent, clock)
    agent.add_remark(5, 1, "positive", "Brawo")
    agent.pins.remember(3, "Anna Nowak", "2468", agent.today(), {"token": "tok"})
    agent.outbox.cache_put("roster:5", {"pupils": []})
    agent._revoked({"error": "kiosk_revoked"})
    assert agent.session is None
    assert agent.credential is None
    assert credential.load(agent.config.state_dir) is None
    assert agent.outbox.cache_get("roster:5") is None
    assert agent.pins.teachers(agent.today()) == []
    assert agent.outbox.counts()["saved"] == 1
    state = agent.state()
    assert state["screen"] == "revoked"
    assert "wyrejestrowane" in state["revoked_message"]
