"""Lessons on dates: made from the weekly plan, substitutions, the lesson now (cancellations:
tests/test_cancel_lesson.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ediary.access import roles
from ediary.audit.recording import Actor, Channel
from ediary.errors import Refusal
from ediary.timetable.models import Lesson
from ediary.timetable.operations import ensure_lessons, substitute
from ediary.timetable.queries import lesson_now, roster, term_on

ADMIN = Channel.WEB


@pytest.mark.calendar
def test_ensure_lessons_is_idempotent_and_uses_local_bell_times(world, session):
    week = dt.timedelta(days=7)
    # Another week of this school year: the next one, unless the year ends first.
    other_week = (
        world.today + week if world.today + week <= world.year.ends_on else world.today - week
    )
    made = ensure_lessons(Actor(world.school_admin, ADMIN), world.school, other_week)
    again = ensure_lessons(Actor(world.school_admin, ADMIN), world.school, other_week)
    assert len(made) == 1 and [lesson.id for lesson in again] == [made[0].id]
    lesson = made[0]
    local = lesson.starts_at.astimezone(ZoneInfo("Europe/Warsaw"))  # stored in UTC
    assert (local.date(), local.hour, local.minute) == (other_week, 8, 0)
    after_the_year = world.year.ends_on + week
    assert ensure_lessons(Actor(world.school_admin, ADMIN), world.school, after_the_year) == []
    assert (
        lesson.starts_at.tzinfo is not None
        and lesson.ends_at - lesson.starts_at == dt.timedelta(minutes=45)
    )


@pytest.mark.calendar
def test_lesson_now_finds_the_teachers_lesson_in_the_room(world, session):
    during = world.lesson.starts_at + dt.timedelta(minutes=10)
    assert lesson_now(world.room.id, world.teacher.id, during) == world.lesson
    assert lesson_now(world.room.id, world.teacher.id, world.lesson.ends_at) is None
    assert lesson_now(world.room.id, world.other_teacher.id, during) is None


def test_substitution_moves_the_lesson_to_the_substitute(world, session):
    substitute(Actor(world.school_admin, ADMIN), world.lesson, world.other_teacher)
    during = world.lesson.starts_at + dt.timedelta(minutes=10)
    assert lesson_now(world.room.id, world.other_teacher.id, during) == world.lesson
    assert lesson_now(world.room.id, world.teacher.id, during) is None
    assert world.lesson.substitute_for_id == world.teacher.id
    assert roles.can_record_in_lesson(world.other_teacher, world.lesson)
    assert not roles.can_record_in_lesson(world.teacher, world.lesson)
    substitute(Actor(world.school_admin, ADMIN), world.lesson, world.teacher)  # handed back
    assert world.lesson.substitute_for_id is None


def test_only_a_teacher_of_the_school_can_substitute(world, session):
    with pytest.raises(Refusal, match="not_a_teacher"):
        substitute(Actor(world.school_admin, ADMIN), world.lesson, world.secretary)


@pytest.mark.calendar
def test_roster_and_term(world, session):
    assert [p.id for p in roster(world.lesson)] == sorted(
        [world.pupil.id, world.classmate.id],
        key=lambda i: {world.pupil.id: "Wiśniewska", world.classmate.id: "Lewandowski"}[i],
    )
    assert term_on(world.school.id, world.today) is not None
    assert session.scalar(select(Lesson.id).where(Lesson.date == world.today)) == world.lesson.id
