"""`ediary demo` at any hour of any day gives the demo teacher a lesson now at the demo kiosk.

A small demo district is seeded on a Monday; `ediary demo` then runs (in process, with the clock
pinned by time-machine, and without starting any server) on a copy of it at awkward moments: a
Saturday noon, a weekday evening, during a lesson, after midnight, in a break, a week later.
Each time the demo kiosk enrolls with the printed code, and through the real socket handlers
its `room` lists a lesson of nauczyciel1 under way and the teacher's login opens it
(`lesson_now`); the banner names a parent with a child in that class. Nobody and no room is ever
in two places at once, and whatever the demo did has its history row.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from sqlalchemy import text

from ediary.cli.demo import HOW
from ediary.db import make_engine
from ediary.demo.accounts import DEMO_PASSWORD
from ediary.extensions import socketio
from tests import test_cli as cli
from tests import test_demo_seed as seed
from tests.servers import free_port
from tests.test_cli import Invoke, Served, Started, rows

# The command runner without servers and the app on another database, shared with those tests.
invoke = cli.invoke
no_serving = cli.no_serving
app_on = seed.app_on

WARSAW = ZoneInfo("Europe/Warsaw")
SEEDED = dt.datetime(2026, 11, 30, 7, 30, tzinfo=WARSAW)  # a Monday, before school
MOMENTS = {
    "saturday-noon": dt.datetime(2026, 12, 5, 12, 0, tzinfo=WARSAW),
    "weekday-21:30": dt.datetime(2026, 12, 8, 21, 30, tzinfo=WARSAW),
    "weekday-10:00": dt.datetime(2026, 12, 9, 10, 0, tzinfo=WARSAW),
    "just-after-midnight": dt.datetime(2026, 12, 10, 0, 3, tzinfo=WARSAW),
    "in-the-long-break": dt.datetime(2026, 12, 10, 10, 41, 30, tzinfo=WARSAW),
    "beyond-the-seeded-weeks": dt.datetime(2026, 12, 15, 8, 50, tzinfo=WARSAW),
}
NS = "/kiosk"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo district, seeded on SEEDED through the real command."""
    from click.testing import CliRunner

    from ediary.cli import main
    from ediary.db import db
    from tests.test_demo_seed import CHEAP_HASHING

    path = tmp_path_factory.mktemp("demo-now") / "demo.db"
    saved = db.engine
    with time_machine.travel(SEEDED, tick=False):
        args = ["seed-demo", "--database-url", f"sqlite:///{path}", "--scale", "0.1"]
        result = CliRunner().invoke(main, [*args, "--weeks", "1"], env=CHEAP_HASHING)
    if db.engine is not None and db.engine is not saved:
        db.engine.dispose()
    if saved is not None:
        db.bind(saved)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def demo_db(seeded: Path, tmp_path: Path) -> str:
    shutil.copy(seeded, tmp_path / "demo.db")
    return f"sqlite:///{tmp_path / 'demo.db'}"


def run_demo(invoke: Invoke, url: str, started: list[Started], at: dt.datetime) -> str:
    """`ediary demo` at `at`, up to where it would start the server; returns what it printed."""
    ports = ["--port", str(free_port()), "--kiosk-port", str(free_port())]
    with time_machine.travel(at, tick=False):
        result = invoke("demo", "--database-url", url, *ports)
    assert isinstance(result.exception, Served), result.output
    return result.output


def kiosk_sees_a_lesson_now(app: Flask, code: str, at: dt.datetime) -> dict[str, Any]:
    """Enrolls the demo kiosk with `code`, then asks as the kiosk: the room's lessons, and the
    demo teacher's login. Returns the lesson under way."""
    with time_machine.travel(at, tick=False):
        enrolled = app.test_client().post("/api/kiosk/enroll", json={"code": code}).get_json()
        auth = {"kiosk_id": enrolled["kiosk_id"], "secret": enrolled["secret"]}
        client = socketio.test_client(app, namespace=NS, auth=auth)
        try:
            room = client.emit("room", {}, namespace=NS, callback=True)
            now = at.astimezone(dt.UTC)
            under_way = [
                lesson
                for lesson in room["lessons"]
                if dt.datetime.fromisoformat(lesson["starts_at"]).replace(tzinfo=dt.UTC)
                <= now
                < dt.datetime.fromisoformat(lesson["ends_at"]).replace(tzinfo=dt.UTC)
            ]
            assert len(under_way) == 1, room
            credentials = {"login": "nauczyciel1", "password": DEMO_PASSWORD}
            login = client.emit("teacher_login", credentials, namespace=NS, callback=True)
            assert login["ok"] is True, login
            assert login["lesson_now"] == under_way[0]["id"]
            sheet = client.emit(
                "roster",
                {"session": login["session"], "lesson_id": login["lesson_now"]},
                namespace=NS,
                callback=True,
            )
            assert sheet["ok"] is True and sheet["pupils"], sheet
        finally:
            client.disconnect(namespace=NS)
    return dict(under_way[0], pupils=[p["id"] for p in sheet["pupils"]])


def nobody_is_in_two_places(url: str) -> None:
    """No teacher, room or pupil in two lessons at once: a class's two lessons at once clash
    unless they are of two different groups of it (seed.SAME_PUPILS)."""
    for column in ("teacher_id", "class_id", "room_id"):
        pupils = f"AND {seed.SAME_PUPILS}" if column == "class_id" else ""
        clashes = rows(
            url,
            f"SELECT a.id, b.id FROM lessons a JOIN lessons b ON a.{column} = b.{column} "  # noqa: S608
            "AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
            f"WHERE a.status != 'cancelled' AND b.status != 'cancelled' {pupils}",
        )
        assert clashes == [], column


def check(url: str, output: str, lesson: dict[str, Any], started_at: dt.datetime) -> None:
    parent = re.search(r"log in as (rodzic\d+) \(a parent in (\S+)\)", output)
    assert parent is not None, output
    assert lesson["class"] == parent.group(2)
    children = rows(
        url,
        "SELECT g.pupil_id FROM guardianships g JOIN users u ON u.id = g.user_id "
        "WHERE u.login = :login",
        login=parent.group(1),
    )
    assert {pupil for (pupil,) in children} & set(lesson["pupils"])
    assert f"room {lesson['room']} of " in output and "nauczyciel1 has a lesson now" in output
    # Recorded like any write: a history row for the lesson at the moment the demo made it.
    made = rows(
        url,
        "SELECT h.channel FROM history h WHERE h.entity = 'lessons' AND h.entity_id = :lesson "
        "AND h.at >= :at",
        lesson=lesson["id"],
        at=started_at.astimezone(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1),
    )
    if any(said in output for said in HOW.values() if said):  # the demo arranged the lesson
        assert made, output
    nobody_is_in_two_places(url)


@pytest.mark.parametrize("moment", MOMENTS.values(), ids=MOMENTS.keys())
def test_the_demo_has_a_lesson_now_at_any_hour(
    moment: dt.datetime,
    demo_db: str,
    invoke: Invoke,
    no_serving: list[Started],
    app_on: Callable[..., Flask],
) -> None:
    output = run_demo(invoke, demo_db, no_serving, moment)
    _server, code, _state, _port = no_serving[-1].kiosk_args
    lesson = kiosk_sees_a_lesson_now(app_on(demo_db, DEMO_MODE=True), code, moment)
    check(demo_db, output, lesson, moment)


def test_running_the_demo_again_later_gives_a_lesson_now_again(
    demo_db: str,
    invoke: Invoke,
    no_serving: list[Started],
    app_on: Callable[..., Flask],
) -> None:
    saturday = MOMENTS["saturday-noon"]
    later = [saturday, saturday + dt.timedelta(hours=1, minutes=5), MOMENTS["weekday-10:00"]]
    later.append(MOMENTS["beyond-the-seeded-weeks"] + dt.timedelta(days=2, hours=3))
    for moment in later:
        output = run_demo(invoke, demo_db, no_serving, moment)
        _server, code, _state, _port = no_serving[-1].kiosk_args
        lesson = kiosk_sees_a_lesson_now(app_on(demo_db, DEMO_MODE=True), code, moment)
        check(demo_db, output, lesson, moment)


def test_a_lesson_under_way_in_the_timetable_is_the_one_used(
    demo_db: str,
    invoke: Invoke,
    no_serving: list[Started],
    app_on: Callable[..., Flask],
) -> None:
    engine = make_engine(demo_db)
    with engine.connect() as sql:  # a weekday lesson of nauczyciel1 from the timetable
        starts = sql.execute(
            text(
                "SELECT l.starts_at FROM lessons l JOIN users u ON u.id = l.teacher_id "
                "WHERE u.login = 'nauczyciel1' AND l.timetable_entry_id IS NOT NULL "
                "AND l.date = '2026-12-09' ORDER BY l.starts_at LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()
    during = dt.datetime.fromisoformat(str(starts)).replace(tzinfo=dt.UTC) + dt.timedelta(
        minutes=20
    )
    output = run_demo(invoke, demo_db, no_serving, during)
    assert not any(said in output for said in HOW.values() if said), output
    _server, code, _state, _port = no_serving[-1].kiosk_args
    lesson = kiosk_sees_a_lesson_now(app_on(demo_db, DEMO_MODE=True), code, during)
    check(demo_db, output, lesson, during)
    assert not lesson["substitution"]
    assert dt.datetime.fromisoformat(lesson["starts_at"]) == during - dt.timedelta(minutes=20)
    # No lesson made outside the plan, but the seed's own: group 2's on the absent teacher's day
    # (ediary/demo/substitutions.py), which is not nauczyciel1's.
    outside = rows(
        demo_db,
        "SELECT l.group_id IS NOT NULL, u.login FROM lessons l "
        "JOIN users u ON u.id = l.teacher_id WHERE l.timetable_entry_id IS NULL",
    )
    assert [
        (bool(group), login) for group, login in outside if not group or login == "nauczyciel1"
    ] == []


def test_in_school_hours_with_every_class_busy_the_teacher_substitutes(
    demo_db: str,
    invoke: Invoke,
    no_serving: list[Started],
    app_on: Callable[..., Flask],
) -> None:
    # Setup: a lesson of nauczyciel1 in the morning is cancelled, while each of their classes
    # has a lesson for the next 45 minutes; no extra lesson fits, so the demo arranges a
    # substitution in a lesson under way.
    engine = make_engine(demo_db)
    with engine.begin() as sql:
        mine = "l.teacher_id = (SELECT id FROM users WHERE login = 'nauczyciel1')"
        theirs = (
            "SELECT DISTINCT class_id FROM teaching_assignments "
            "WHERE teacher_id = (SELECT id FROM users WHERE login = 'nauczyciel1')"
        )
        candidates = sql.execute(
            text(f"SELECT l.id, l.starts_at FROM lessons l WHERE {mine} "  # noqa: S608
                 "AND l.date = '2026-12-09' ORDER BY l.starts_at")
        ).all()  # fmt: skip
        chosen = None
        for lesson_id, starts in candidates:
            at = dt.datetime.fromisoformat(str(starts)) + dt.timedelta(minutes=20)
            busy = sql.execute(
                text(f"SELECT count(DISTINCT class_id) FROM lessons WHERE id != :lesson "  # noqa: S608
                     f"AND class_id IN ({theirs}) AND status != 'cancelled' "
                     "AND starts_at < :until AND ends_at > :at"),
                {"lesson": lesson_id, "at": at, "until": at + dt.timedelta(minutes=45)},
            ).scalar_one()  # fmt: skip
            if busy == len(sql.execute(text(theirs)).all()):
                chosen = (lesson_id, at.replace(tzinfo=dt.UTC))
                break
        assert chosen is not None, "no morning lesson of nauczyciel1 with every class busy"
        sql.execute(
            text("UPDATE lessons SET status = 'cancelled' WHERE id = :id"), {"id": chosen[0]}
        )
    engine.dispose()
    output = run_demo(invoke, demo_db, no_serving, chosen[1])
    assert "(a substitution the demo arranged)" in output, output
    _server, code, _state, _port = no_serving[-1].kiosk_args
    lesson = kiosk_sees_a_lesson_now(app_on(demo_db, DEMO_MODE=True), code, chosen[1])
    assert lesson["substitution"] is True
    check(demo_db, output, lesson, chosen[1])
