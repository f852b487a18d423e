"""Issue 10, item 1: a roll applies only what the teacher changed, compare-and-set per pupil.

The issue's steps on the server: a kiosk roll with an absence, an excuse approved, a change on
the web, then a roll from a kiosk whose screen still shows the old states. The server keeps the
excuse and the web change, applies the new absence, and names a real conflict with who made the
other change; an excuse decision is never undone by a roll that did not know about it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType
from ediary.diary.operations import change_topic, set_topic, submit_roll
from ediary.excuses import operations as excuses
from ediary.excuses.operations import decide_excuses, request_excuse
from ediary.schools.models import Pupil
from ediary.schools.operations import enrol_pupil
from tests.html import hidden_fields
from tests.kiosk_server.conftest import KioskWorld, login, submit

SYSTEM = Actor.system(Channel.CLI)


@pytest.fixture
def kiosk(connect: Any, kworld: KioskWorld) -> Any:
    client = connect()
    client.token = login(client, kworld.teacher)["session"]
    return client


@pytest.fixture
def third(kworld: KioskWorld) -> Pupil:
    pupil = enrol_pupil(SYSTEM, kworld.class_a, "Celina", "Zielińska")
    db.session.commit()
    return pupil


def codes(kworld: KioskWorld) -> dict[int, str]:
    rows = db.session.scalars(select(Attendance).where(Attendance.lesson_id == kworld.lesson.id))
    return {a.pupil_id: a.type.code for a in rows}


def roll(pupils: dict[int, str], base: dict[int, str | None]) -> dict[str, Any]:
    return {
        "states": {str(p): code for p, code in pupils.items()},
        "base": {str(p): code for p, code in base.items()},
    }


def excuse(kworld: KioskWorld) -> None:
    """The parent asks to excuse the pupil's absence; the form tutor approves (both on the web)."""
    absence = db.session.scalars(
        select(Attendance).where(
            Attendance.lesson_id == kworld.lesson.id, Attendance.pupil_id == kworld.pupil.id
        )
    ).one()
    request = request_excuse(
        Actor(kworld.parent, Channel.WEB),
        kworld.pupil,
        absences=[absence],
        future_days=[],
        reason="Choroba",
        note=None,
        today=kworld.today,
    )
    assert decide_excuses(Actor(kworld.tutor, Channel.WEB), [request], approve=True) == 1
    db.session.commit()


def web_roll(client: FlaskClient, kworld: KioskWorld, **fields: str) -> Any:
    """The teacher's lesson page, sent back with these selects changed (as a browser does)."""
    path = f"/lessons/{kworld.lesson.id}"
    page = client.get(path).get_data(as_text=True)
    chosen = {
        f"state-{pupil_id}": code
        for pupil_id, code in _selected(page).items()
        if f"state-{pupil_id}" not in fields
    }
    return client.post(path, data={**hidden_fields(client, path), **chosen, **fields})


def _selected(page: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for pupil_id, options in re.findall(
        r'<select id="state-(\d+)" name="state-\d+">(.*?)</select>', page, re.S
    ):
        selected = re.search(r'<option value="([^"]+)" selected>', options)
        if selected:
            found[int(pupil_id)] = selected.group(1)
    return found


def test_the_issue_steps_keep_the_excuse_and_the_web_change(
    kiosk: Any, kworld: KioskWorld, third: Pupil, client: FlaskClient, login_as: Any
) -> None:
    pupil, classmate = kworld.pupil.id, kworld.classmate.id
    # 1. The roll at the kiosk: the pupil absent, everyone else present by default.
    first = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, roll({pupil: "nb"}, {pupil: None}))
    assert first["ok"] is True
    assert codes(kworld) == {pupil: "nb", classmate: "ob", third.id: "ob"}
    # 2-3. The parent asks for an excuse; the form tutor approves it.
    excuse(kworld)
    # 4. The teacher changes another pupil on the web page.
    response = web_roll(login_as(kworld.teacher), kworld, **{f"state-{classmate}": "zw"})
    assert response.status_code == 302
    assert codes(kworld) == {pupil: "u", classmate: "zw", third.id: "ob"}
    history = db.session.query(HistoryEntry).count()

    # 5. At the kiosk again, on a screen that still shows the first roll's states, the teacher
    # marks one more pupil absent. Whatever the screen showed for the others, the roll names
    # them with it: nothing the teacher did there.
    stale = roll(
        {pupil: "nb", classmate: "ob", third.id: "nb"},
        {pupil: "nb", classmate: "ob", third.id: "ob"},
    )
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, stale)

    assert ack["ok"] is True and ack["status"] == "applied"
    db.session.expire_all()
    assert codes(kworld) == {pupil: "u", classmate: "zw", third.id: "nb"}
    assert ack["result"]["conflicts"] == []  # nothing was overwritten, nothing to report
    assert ack["result"]["changed"] == 1
    assert ack["result"]["states"] == {str(pupil): "u", str(classmate): "zw", str(third.id): "nb"}
    added = db.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id).offset(history))
    absent = _type_id("nb", kworld.school.id)
    assert [(h.pupil_id, h.new) for h in added] == [(third.id, {"type_id": absent})]


def _type_id(code: str, school_id: int) -> int:
    query = select(AttendanceType.id).where(
        AttendanceType.code == code, AttendanceType.school_id == school_id
    )
    return int(db.session.scalars(query).first() or 0)


def test_a_tap_on_an_excused_pupil_is_a_conflict_naming_the_tutor(
    kiosk: Any, kworld: KioskWorld
) -> None:
    pupil = kworld.pupil.id
    submit(kiosk, kiosk.token, "roll", kworld.lesson.id, roll({pupil: "nb"}, {pupil: None}))
    excuse(kworld)
    # The kiosk's screen still shows the absence; the teacher makes it "late".
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, roll({pupil: "sp"}, {pupil: "nb"}))
    [conflict] = ack["result"]["conflicts"]
    at = dt.datetime.fromisoformat(conflict.pop("at"))
    assert conflict == {
        "pupil_id": pupil,
        "base": "nb",
        "server": "u",
        "wanted": "sp",
        "by": kworld.tutor.full_name,
        "channel": "web",
    }
    assert abs(at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    db.session.expire_all()
    assert codes(kworld)[pupil] == "u"  # the excuse stands
    assert ack["event_ids"] == []


@pytest.mark.parametrize(
    ("server", "base", "wanted", "result", "conflict"),
    [
        (None, None, "nb", "nb", False),  # nothing recorded, as the screen showed
        ("ob", None, "nb", "nb", False),  # the default was shown for nothing recorded
        ("ob", "ob", "nb", "nb", False),  # the server still has the base
        ("nb", "nb", "nb", "nb", False),  # the teacher changed nothing
        ("nb", "ob", "nb", "nb", False),  # the server has the new state already
        ("u", "nb", "ob", "u", True),  # changed meanwhile: kept, reported
        ("zw", "ob", "nb", "zw", True),  # changed meanwhile: kept, reported
    ],
)
def test_the_rules_per_pupil(
    world: Any,
    session: Any,
    server: str | None,
    base: str | None,
    wanted: str,
    result: str,
    conflict: bool,
) -> None:
    if server is not None:
        other = Actor(world.tutor, Channel.WEB)
        submit_roll(other, world.lesson, {world.pupil.id: server}, base=None)
    mine = HistoryEntry.pupil_id == world.pupil.id
    before = session.query(HistoryEntry).filter(mine).count()
    teacher = Actor(world.teacher, Channel.KIOSK)
    done = submit_roll(teacher, world.lesson, {world.pupil.id: wanted}, base={world.pupil.id: base})
    assert done["states"] == {str(world.pupil.id): result}
    assert [c["pupil_id"] for c in done["conflicts"]] == ([world.pupil.id] if conflict else [])
    written = session.query(HistoryEntry).filter(mine).count() - before
    assert written == (result != server)


def test_the_topic_follows_the_same_rules(world: Any, session: Any) -> None:
    teacher, tutor = Actor(world.teacher, Channel.KIOSK), Actor(world.tutor, Channel.WEB)
    assert change_topic(teacher, world.lesson, "Ułamki", base_topic=None) is None
    assert world.lesson.topic == "Ułamki"
    set_topic(tutor, world.lesson, "Ułamki zwykłe")
    clash = change_topic(teacher, world.lesson, "Ułamki dziesiętne", base_topic="Ułamki")
    assert clash is not None and clash.pop("at")
    assert clash == {
        "field": "topic",
        "base": "Ułamki",
        "server": "Ułamki zwykłe",
        "wanted": "Ułamki dziesiętne",
        "by": world.tutor.full_name,
        "channel": "web",
    }
    assert world.lesson.topic == "Ułamki zwykłe"
    # The server has it already, or the teacher did not change it: nothing to do.
    assert change_topic(teacher, world.lesson, "Ułamki zwykłe", base_topic="Ułamki") is None
    assert change_topic(teacher, world.lesson, "Ułamki", base_topic="Ułamki") is None
    assert world.lesson.topic == "Ułamki zwykłe"


def test_an_absence_changed_to_present_meanwhile_is_not_excused(
    world: Any, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The approval read the absence; then another transaction (the teacher's correction to
    "present") committed before the approval wrote. The approval's base (nb) no longer holds:
    it writes nothing, and says so."""
    teacher = Actor(world.teacher, Channel.WEB)
    submit_roll(teacher, world.lesson, {world.pupil.id: "nb"}, base={world.pupil.id: None})
    absence = session.scalars(select(Attendance).where(Attendance.pupil_id == world.pupil.id)).one()
    request = request_excuse(
        Actor(world.parent, Channel.WEB),
        world.pupil,
        absences=[absence],
        future_days=[],
        reason="Choroba",
        note=None,
        today=world.today,
    )
    read_before = excuses.unexcused_absences(request)  # what the approval saw: the absence
    monkeypatch.setattr(excuses, "unexcused_absences", lambda _request: read_before)
    present = _type_id("ob", world.school.id)
    session.connection().execute(  # the other transaction, behind this session's back
        update(Attendance)
        .where(Attendance.id == absence.id)
        .values(type_id=present, version=absence.version + 1)
    )

    excused = decide_excuses(Actor(world.tutor, Channel.WEB), [request], approve=True)

    assert excused == 0
    session.expire_all()
    assert session.get(Attendance, absence.id).type.code == "ob"
