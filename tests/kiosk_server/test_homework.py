"""A test or homework announced at the kiosk (docs/protocol.md, `homework_dates` and the kind
`homework`), in process: the scope of the kiosk's lesson, the statute's warning before saving,
idempotency by key, and the refusals. Through a real server: tests/kiosk/test_homework_e2e.py."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from ediary.db import db
from ediary.homework.models import Homework
from ediary.journal.models import JournalEvent
from tests import factories
from tests.kiosk_server.conftest import KioskWorld, call, login, submit


@pytest.fixture
def kiosk(connect: Any, kworld: KioskWorld) -> Any:
    client = connect()
    client.token = login(client, kworld.teacher)["session"]
    return client


def _math_on(kworld: KioskWorld, days: int, slot: int = 1) -> Any:
    return factories.make_lesson(
        kworld.school, kworld.class_a, kworld.math, kworld.teacher, kworld.room,
        kworld.today + dt.timedelta(days=days), slot,
    )  # fmt: skip


def _homework(date: dt.date, kind: str = "test", **extra: Any) -> dict[str, Any]:
    return {"homework_kind": kind, "date": date.isoformat(), "description": "Ułamki", **extra}


def _count() -> int:
    return int(db.session.scalar(select(func.count(Homework.id))) or 0)


def test_dates_list_the_coming_lessons_with_the_warnings(kiosk: Any, kworld: KioskWorld) -> None:
    monday = kworld.today - dt.timedelta(days=kworld.today.weekday()) + dt.timedelta(days=7)
    lessons = [_math_on(kworld, (monday - kworld.today).days + n) for n in range(4)]
    db.session.commit()
    for lesson in lessons[:3]:
        ack = submit(kiosk, kiosk.token, "homework", kworld.lesson.id, _homework(lesson.date))
        assert ack["ok"], ack
    dates = call(kiosk, "homework_dates", {"session": kiosk.token, "lesson_id": kworld.lesson.id})
    by_date = {item["date"]: item for item in dates["lessons"]}
    assert kworld.today.isoformat() in by_date  # the lesson now counts too
    thursday = by_date[lessons[3].date.isoformat()]
    assert thursday["lesson_id"] == lessons[3].id
    assert thursday["test_warnings"] and "już: 3" in thursday["test_warnings"][0]


def test_an_announcement_is_one_entry_and_warns_before_a_fourth_test(
    kiosk: Any, kworld: KioskWorld
) -> None:
    monday = kworld.today - dt.timedelta(days=kworld.today.weekday()) + dt.timedelta(days=7)
    lessons = [_math_on(kworld, (monday - kworld.today).days + n) for n in range(4)]
    db.session.commit()
    key = str(uuid.uuid4())
    first = submit(
        kiosk, kiosk.token, "homework", kworld.lesson.id, _homework(lessons[0].date), key
    )
    assert first["status"] == "applied" and first["result"]["for_lesson_id"] == lessons[0].id
    (event,) = db.session.scalars(
        select(JournalEvent).where(JournalEvent.id.in_(first["event_ids"]))
    ).all()
    assert (event.type, event.audience_id) == ("homework.changed", kworld.class_a.id)
    again = submit(
        kiosk, kiosk.token, "homework", kworld.lesson.id, _homework(lessons[0].date), key
    )
    assert again["status"] == "duplicate" and _count() == 1
    for lesson in lessons[1:3]:
        submit(kiosk, kiosk.token, "homework", kworld.lesson.id, _homework(lesson.date))
    fourth = _homework(lessons[3].date)
    warned = submit(kiosk, kiosk.token, "homework", kworld.lesson.id, fourth)
    assert warned["error"] == "test_limit" and warned["warnings"] and _count() == 3
    quiz = submit(
        kiosk, kiosk.token, "homework", kworld.lesson.id, {**fourth, "homework_kind": "quiz"}
    )
    assert quiz["ok"]  # a kartkówka is not counted
    confirmed = submit(
        kiosk, kiosk.token, "homework", kworld.lesson.id, {**fourth, "confirm": True}
    )
    assert confirmed["ok"] and _count() == 5


@pytest.mark.parametrize(
    ("days", "extra", "code"),
    [
        (-1, {}, "homework_past"),
        (3, {}, "homework_no_lesson"),  # no maths lesson of 5a that day
        (1, {"homework_kind": "homework"}, "due_date_invalid"),
        (1, {"description": "   "}, "homework_empty"),
        (1, {"description": "x" * 1001}, "invalid"),
        (1, {"date": "2026-13-40"}, "invalid"),
        (1, {"class_id": 1}, "invalid"),  # no field names another class
    ],
)
def test_refusals_write_nothing(
    kiosk: Any, kworld: KioskWorld, days: int, extra: dict[str, Any], code: str
) -> None:
    _math_on(kworld, 1)
    db.session.commit()
    journal = db.session.scalar(select(func.count(JournalEvent.id)))
    payload = {**_homework(kworld.today + dt.timedelta(days=days)), **extra}
    ack = submit(kiosk, kiosk.token, "homework", kworld.lesson.id, payload)
    assert ack["error"] == code, ack
    assert _count() == 0 and db.session.scalar(select(func.count(JournalEvent.id))) == journal


def test_a_lesson_not_of_this_kiosk_and_teacher_or_a_huge_id_is_not_found(
    kiosk: Any, kworld: KioskWorld
) -> None:
    other = factories.make_lesson(
        kworld.school, kworld.class_b, kworld.math, kworld.other_teacher, kworld.room,
        kworld.today, 2,
    )  # fmt: skip
    db.session.commit()
    tomorrow = _homework(kworld.today + dt.timedelta(days=1))
    assert submit(kiosk, kiosk.token, "homework", other.id, tomorrow)["error"] == "not_found"
    huge = call(kiosk, "homework_dates", {"session": kiosk.token, "lesson_id": 2**63})
    assert huge["error"] == "invalid"
    dates = call(kiosk, "homework_dates", {"session": kiosk.token, "lesson_id": other.id})
    assert dates["error"] == "not_found"
    assert _count() == 0
