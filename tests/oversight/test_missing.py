"""Missing diary entries for the director (issue 14 item 6): lessons that took place without a
topic or a roll, by teacher and class, oldest first, with the count per teacher. The clock is
pinned (tests/clock.py DEFAULT: Wednesday 18 November 2026, 10:30 in Warsaw)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db, utcnow
from ediary.diary.operations.roll import set_topic, submit_roll
from ediary.oversight.queries import missing_entries
from ediary.people.models import User
from ediary.timetable.models import Lesson, LessonStatus
from tests.factories import World, make_lesson, make_world
from tests.html import text


@operation
def _edit(actor: Actor, lesson: Lesson, **values: Any) -> None:
    for name, value in values.items():
        setattr(lesson, name, value)


@pytest.fixture
def world(session: object) -> World:
    world = make_world()
    w = world
    today = w.today
    # Today's first lesson (8:00) has its roll and topic: nothing missing.
    teacher = Actor(w.teacher, Channel.WEB)
    submit_roll(teacher, w.lesson, {w.pupil.id: "ob", w.classmate.id: "ob"}, base=None)
    set_topic(teacher, w.lesson, "Ułamki")
    # Two days ago: Anna Nowak's math in 5a with neither.
    make_lesson(w.school, w.class_a, w.math, w.teacher, w.room, today - dt.timedelta(days=2))
    # Yesterday: Ewa Zielińska's math in 5b with a topic but no roll.
    yesterday = make_lesson(
        w.school, w.class_b, w.math, w.other_teacher, w.room, today - dt.timedelta(days=1)
    )
    _edit(Actor.system(), yesterday, topic="Proporcje")
    # Yesterday, slot 3: cancelled, so nothing is owed.
    cancelled = make_lesson(
        w.school, w.class_a, w.math, w.teacher, w.room, today - dt.timedelta(days=1), 3
    )
    _edit(Actor.system(), cancelled, status=LessonStatus.CANCELLED)
    # Today, slot 2 (9:00): begun, nothing entered yet.
    make_lesson(w.school, w.class_b, w.math, w.other_teacher, w.room, today, 2)
    # Today, slot 6 (13:00): not begun yet.
    make_lesson(w.school, w.class_a, w.math, w.teacher, w.room, today, 6)
    db.session.flush()
    return world


def test_missing_entries_oldest_first_with_counts(world: World) -> None:
    found = missing_entries(world.school, utcnow())
    rows = [
        (e.date, e.slot_number, e.teacher, e.class_name, e.no_topic, e.no_roll)
        for e in found.entries
    ]
    today = world.today
    assert rows == [
        (today - dt.timedelta(days=2), 1, world.teacher.full_name, "5a", True, True),
        (today - dt.timedelta(days=1), 1, world.other_teacher.full_name, "5b", False, True),
        (today, 2, world.other_teacher.full_name, "5b", True, True),
    ]
    assert found.per_teacher == [(world.other_teacher.full_name, 2), (world.teacher.full_name, 1)]
    assert not found.truncated


def test_a_lesson_not_begun_is_not_missing(world: World, time_machine: Any) -> None:
    found = missing_entries(world.school, utcnow())
    assert all(e.slot_number != 6 for e in found.entries)
    time_machine.shift(dt.timedelta(hours=3))  # 13:30: the 13:00 lesson has begun
    later = missing_entries(world.school, utcnow())
    assert [e.slot_number for e in later.entries][-1] == 6


def test_another_schools_lessons_are_not_counted(world: World) -> None:
    assert missing_entries(world.other_school, utcnow()).entries == []


def test_the_director_sees_the_page_from_the_school_page(
    world: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(world.school_admin)
    school_page = client.get(f"/schools/{world.school.id}").get_data(as_text=True)
    url = f"/oversight/schools/{world.school.id}/missing"
    assert url in school_page
    page = text(client.get(url).get_data(as_text=True))
    assert "Braki w dzienniku" in page
    assert world.other_teacher.full_name in page and "5b" in page
    assert "tematu, obecności" in page and "Proporcje" not in page


def test_refusals_are_missing_pages(world: World, login_as: Callable[[User], FlaskClient]) -> None:
    director = login_as(world.school_admin)
    for bad in (str(world.other_school.id), str(2**63), "999999"):
        assert director.get(f"/oversight/schools/{bad}/missing").status_code == 404
    other = login_as(world.other_school_admin)
    assert other.get(f"/oversight/schools/{world.school.id}/missing").status_code == 404
