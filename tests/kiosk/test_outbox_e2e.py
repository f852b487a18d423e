"""The outbox against a real server through a loopback proxy that the test cuts and restores:
entries made while cut queue on disk, survive kill -9 of the agent, and reach the server exactly
once, in order, when the network returns; a lost acknowledgement is replayed as a duplicate."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.kiosk.conftest import AgentProcess, Screen, Site, wait_until
from tests.kiosk.proxy import Proxy

pytestmark = pytest.mark.slow


def enrolled(site: Site, make_agent: Callable[..., AgentProcess], server_url: str) -> AgentProcess:
    agent = make_agent(server_url)
    result = agent.enroll(site.server.url, site.code())
    assert result.returncode == 0, result.stderr
    return agent.start()


def login(screen: Screen, site: Site) -> dict[str, Any]:
    screen.wait_online()
    screen.ok(
        "/api/login", {"login": site.ids["teacher_login"], "password": PASSWORD, "pin": "2468"}
    )
    session = screen.state()["session"]
    assert session["lesson_id"] == site.ids["lesson_id"]  # opened by itself
    return screen.ok("/api/lesson", {"lesson_id": site.ids["lesson_id"]})


def grade(screen: Screen, site: Site, pupil_id: int, value: str, note: str) -> dict[str, Any]:
    body = {
        "lesson_id": site.ids["lesson_id"],
        "pupil_id": pupil_id,
        "category_id": None,
        "value": value,
        "description": note,
    }
    return screen.ok("/api/grade", body)["entry"]


def test_cut_kill_restart_restore_delivers_everything_once_in_order(
    site: Site, make_agent: Callable[..., AgentProcess], proxy: Proxy
) -> None:
    agent = enrolled(site, make_agent, proxy.url)
    screen = Screen(agent)
    roster = login(screen, site)
    pupils = [p["id"] for p in roster["pupils"]]
    first = grade(screen, site, pupils[5], "4", "online-1")
    wait_until(lambda: screen.state()["outbox"]["saved"] == 0)

    proxy.cut()
    wait_until(lambda: screen.state()["connection"] == "offline")
    queued = [
        grade(screen, site, pupils[5 + n % 3], v, f"offline-{n}")
        for n, v in enumerate(["5", "3+", "2-", "6", "np"])
    ]
    roll = screen.ok(
        "/api/roll",
        {
            "lesson_id": site.ids["lesson_id"],
            "states": {str(pupils[0]): "nb", str(pupils[1]): "sp"},
            "base": {str(pupils[0]): None, str(pupils[1]): None},
            "topic": "Temat wpisany bez sieci",
            "base_topic": None,
        },
    )["entry"]
    remark = screen.ok(
        "/api/remark",
        {
            "lesson_id": site.ids["lesson_id"],
            "pupil_id": pupils[2],
            "kind": "negative",
            "text": "Rozmowa bez sieci",
        },
    )["entry"]
    keys = [e["key"] for e in [*queued, roll, remark]]
    shown = {e["key"]: e["state"] for e in screen.state()["session"]["entries"]}
    assert [shown[k] for k in keys] == ["saved"] * 7  # "zapisano na tym komputerze"
    assert shown[first["key"]] in ("synced", "delivered")

    agent.kill()  # kill -9 with seven entries pending
    agent.start()  # the computer comes back, the network not yet
    assert agent.status()["outbox"]["saved"] == 7
    screen = Screen(agent)
    time.sleep(1.0)
    assert screen.state()["outbox"]["saved"] == 7
    assert screen.state()["screen"] == "lock"  # a restart never resumes a teacher's screen

    proxy.restore()
    wait_until(lambda: screen.state()["outbox"]["saved"] == 0, timeout=30)
    assert screen.state()["outbox"]["parked"] == 0

    stored = {key for (key,) in site.query("SELECT key FROM processed_submissions")}
    assert set(keys) <= stored
    notes = [
        d
        for (d,) in site.query(
            "SELECT description FROM grades WHERE description LIKE 'o%' ORDER BY id"
        )
    ]
    assert notes == ["online-1", *[f"offline-{n}" for n in range(5)]]  # once each, in order
    assert site.query("SELECT COUNT(*) FROM remarks WHERE text = 'Rozmowa bez sieci'") == [(1,)]
    assert site.query("SELECT topic FROM lessons WHERE id = ?", site.ids["lesson_id"]) == [
        ("Temat wpisany bez sieci",)
    ]
    codes = dict(
        site.query(
            "SELECT a.pupil_id, t.code FROM attendance a"
            " JOIN attendance_types t ON t.id = a.type_id WHERE a.lesson_id = ?",
            site.ids["lesson_id"],
        )
    )
    assert codes[pupils[0]] == "nb" and codes[pupils[1]] == "sp"
    assert sum(1 for c in codes.values() if c == "ob") == len(pupils) - 2
    # The history has each grade once, written through this kiosk by the teacher.
    inserts = site.query(
        "SELECT COUNT(*), MIN(channel), MIN(kiosk_id) FROM history WHERE entity = 'grades'"
        " AND action = 'create' AND json_extract(new, '$.description') LIKE 'offline-%'"
    )
    assert inserts == [(5, "kiosk", site.ids["kiosk_id"])]


def screen_state_saved(agent: AgentProcess) -> int:
    return int(agent.status()["outbox"]["saved"])


def test_a_lost_acknowledgement_is_replayed_as_a_duplicate(
    site: Site, make_agent: Callable[..., AgentProcess], proxy: Proxy
) -> None:
    agent = enrolled(site, make_agent, proxy.url)
    screen = Screen(agent)
    roster = login(screen, site)
    pupil = roster["pupils"][7]["id"]
    proxy.cut("drop_replies")  # the entry reaches the server and commits; the ack is lost
    entry = grade(screen, site, pupil, "5", "lost-ack")
    wait_until(
        lambda: site.query("SELECT COUNT(*) FROM grades WHERE description = 'lost-ack'") == [(1,)]
    )
    time.sleep(2.5)  # past the 2 s acknowledgement timeout: the agent cannot know it arrived
    assert screen_state_saved(agent) == 1
    proxy.cut("reset")
    proxy.restore()
    wait_until(lambda: screen.state()["outbox"]["saved"] == 0, timeout=30)
    assert site.query("SELECT COUNT(*) FROM grades WHERE description = 'lost-ack'") == [(1,)]
    result = site.query("SELECT result FROM processed_submissions WHERE key = ?", entry["key"])
    assert json.loads(result[0][0])["kind"] == "grade"
    # The agent's own record: the acknowledgement it finally got was the stored result.
    local = sqlite3.connect(agent.state_dir / "kiosk.db")
    try:
        (ack,) = local.execute(
            "SELECT result FROM entries WHERE key = ?", (entry["key"],)
        ).fetchone()
    finally:
        local.close()
    assert json.loads(ack)["status"] == "duplicate"


def test_a_refused_entry_is_parked_and_shown_never_dropped(
    site: Site, make_agent: Callable[..., AgentProcess], proxy: Proxy
) -> None:
    agent = enrolled(site, make_agent, proxy.url)
    screen = Screen(agent)
    roster = login(screen, site)
    pupil = roster["pupils"][9]["id"]
    proxy.cut()
    wait_until(lambda: screen.state()["connection"] == "offline")
    refused = screen.ok(
        "/api/remark",
        {
            "lesson_id": site.ids["lesson_id"],
            "pupil_id": pupil,
            "kind": "neutral",
            "text": "Lekcja odwołana w międzyczasie",
        },
    )
    lesson = str(site.ids["lesson_id"])
    previous = site.world("set-status", lesson, "cancelled")["previous"]
    try:
        proxy.restore()
        wait_until(lambda: screen.state()["outbox"]["parked"] == 1, timeout=30)
        parked = screen.state()["session"]["parked"]
        assert [(e["key"], e["refusal_code"]) for e in parked] == [
            (refused["entry"]["key"], "lesson_cancelled")
        ]
        assert parked[0]["refusal"] == "Ta lekcja została odwołana."
        assert screen.state()["outbox"]["saved"] == 0  # the queue moved on
        assert agent.status()["outbox"]["parked"] == 1  # still on disk
        assert site.query(
            "SELECT COUNT(*) FROM remarks WHERE text = 'Lekcja odwołana w międzyczasie'"
        ) == [(0,)]
    finally:
        site.world("set-status", lesson, previous)
