"""Issue 10 at the kiosk's server: entries wait for the lesson to begin (item 3); "present" is the
school's data, and a refusal that will be the same next time is never "try again" (item 5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType, Presence
from tests.kiosk_server.conftest import KioskWorld, call, counts, login, make_room_lesson, submit

SYSTEM = Actor.system(Channel.CLI)


@operation
def _set(actor: Actor, row: Any, **values: Any) -> None:
    for name, value in values.items():
        setattr(row, name, value)


@pytest.fixture
def kiosk(connect: Any, kworld: KioskWorld) -> Any:
    client = connect()
    client.token = login(client, kworld.teacher)["session"]
    return client


def types(kworld: KioskWorld) -> dict[str, AttendanceType]:
    query = select(AttendanceType).where(AttendanceType.school_id == kworld.school.id)
    return {t.code: t for t in db.session.scalars(query)}


# --- item 3 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("roll", {"states": {}, "base": {}}),
        ("topic", {"topic": "Ułamki", "base_topic": None}),
        ("grade", {"pupil_id": "pupil", "value": "5"}),
        ("remark", {"pupil_id": "pupil", "remark_kind": "positive", "text": "Brawo"}),
    ],
)
def test_a_lesson_later_today_takes_no_entries_yet(
    kiosk: Any, kworld: KioskWorld, school_hours: dt.datetime, kind: str, payload: dict[str, Any]
) -> None:
    # Slot 4 rings at 11:00; the clock says 10:00; entries open 15 minutes before the bell.
    later = make_room_lesson(kworld, kworld.room, kworld.teacher, 4)
    db.session.commit()
    payload = {k: kworld.pupil.id if v == "pupil" else v for k, v in payload.items()}
    before = counts()

    ack = submit(kiosk, kiosk.token, kind, later.id, payload)

    assert ack["ok"] is False and ack["error"] == "lesson_not_started"
    assert "retry" not in ack
    assert ack["message"] == (
        "Lekcja jeszcze się nie zaczęła. Wpisy do niej można dodawać od 10:45."
    )
    assert dt.datetime.fromisoformat(ack["opens_at"]) == later.starts_at - dt.timedelta(minutes=15)
    assert counts() == before
    # The roster tells the kiosk when the lesson opens, so it can say so before saving.
    sheet = call(kiosk, "roster", {"session": kiosk.token, "lesson_id": later.id})
    assert sheet["lesson"]["opens_at"] == ack["opens_at"]


def test_the_lesson_opens_at_the_schools_margin(
    kiosk: Any, kworld: KioskWorld, school_hours: dt.datetime
) -> None:
    later = make_room_lesson(kworld, kworld.room, kworld.teacher, 4)  # 11:00
    _set(SYSTEM, kworld.school, entry_lead_minutes=61)
    db.session.commit()
    ack = submit(kiosk, kiosk.token, "topic", later.id, {"topic": "Ułamki", "base_topic": None})
    assert ack["ok"] is True


# --- item 5 -----------------------------------------------------------------------------------


def test_a_school_without_ob_takes_a_roll(kiosk: Any, kworld: KioskWorld) -> None:
    """Present is whatever the school calls it: here "obe", first in its tap order."""
    _set(SYSTEM, types(kworld)["ob"], code="obe", name="obecna")
    db.session.commit()
    payload = {"states": {str(kworld.pupil.id): "nb"}, "base": {str(kworld.pupil.id): None}}

    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload)

    assert ack["ok"] is True and ack["status"] == "applied"
    rows = db.session.scalars(select(Attendance).where(Attendance.lesson_id == kworld.lesson.id))
    assert {a.pupil_id: a.type.code for a in rows} == {
        kworld.pupil.id: "nb",
        kworld.classmate.id: "obe",
    }
    sheet = call(kiosk, "roster", {"session": kiosk.token, "lesson_id": kworld.lesson.id})
    assert sheet["default_code"] == "obe"  # the kiosk shows the same default


def test_a_school_with_no_present_type_gets_a_refusal_not_a_retry(
    kiosk: Any, kworld: KioskWorld
) -> None:
    for kind in types(kworld).values():
        _set(SYSTEM, kind, counts_as=Presence.ABSENT)
    db.session.commit()
    before = counts()
    payload = {"states": {str(kworld.pupil.id): "nb"}, "base": {str(kworld.pupil.id): None}}

    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload)

    assert ack["ok"] is False and ack["error"] == "attendance_no_default"
    assert "retry" not in ack and ack["message"].startswith("Szkoła nie ma rodzaju obecności")
    assert counts() == before
    sheet = call(kiosk, "roster", {"session": kiosk.token, "lesson_id": kworld.lesson.id})
    assert sheet["default_code"] is None
