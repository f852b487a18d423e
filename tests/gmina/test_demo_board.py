"""The demo's board looks like a school-day morning whatever the hour: lessons under way in
every school, most rolls taken, some missing and late (schools behind), nobody in two places."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.demo.gmina import board_morning
from ediary.district.board import board
from ediary.schools.models import District
from ediary.timetable.models import Lesson, LessonStatus
from tests.test_demo_seed import Demo

pytestmark = pytest.mark.shared_clock
WARSAW = ZoneInfo("Europe/Warsaw")


def _warsaw_midnight(at: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(at.astimezone(WARSAW).date(), dt.time(), tzinfo=WARSAW)


def test_the_demo_board_is_a_morning_at_any_hour(
    demo_copy: Demo, app_on: Callable[..., Flask]
) -> None:
    app = app_on(demo_copy.url)
    with app.app_context():
        # The morning is made for `now`, which need not be the clock's. In the first minutes
        # after midnight no school can be ten minutes past its bell (that is the next test).
        now = max(utcnow(), _warsaw_midnight(utcnow()) + dt.timedelta(minutes=20))
        board_morning(Actor.system(Channel.SYSTEM), now)
        db.session.commit()
        assert board_morning(Actor.system(Channel.SYSTEM), now) == 0  # a morning already
        mirzec = db.session.scalars(select(District).where(District.name == "Gmina Mirzec")).one()
        result = board(mirzec, now + dt.timedelta(seconds=1))
        assert all(s.running > 0 for s in result.schools)
        assert result.total("rolls") > result.total("missing") > 0
        assert result.behind >= 1
        assert result.total("cancellations") >= 1
        running = db.session.scalars(
            select(Lesson).where(
                Lesson.starts_at <= now,
                Lesson.ends_at > now,
                Lesson.status != LessonStatus.CANCELLED,
            )
        ).all()
        for column in ("class_id", "teacher_id", "room_id"):
            twice = [k for k, n in Counter(getattr(x, column) for x in running).items() if n > 1]
            assert not twice, column
        db.session.remove()


def test_just_after_midnight_the_demo_board_has_today_s_lessons_under_way(
    demo_copy: Demo, app_on: Callable[..., Flask]
) -> None:
    """Lessons begun "a few minutes ago" at 00:05 would begin yesterday, on yesterday's page of
    the diary, and the board (today's) showed no school with a lesson: CI once ran then."""
    app = app_on(demo_copy.url)
    with app.app_context():
        now = _warsaw_midnight(utcnow()) + dt.timedelta(minutes=5)
        board_morning(Actor.system(Channel.SYSTEM), now)
        db.session.commit()
        mirzec = db.session.scalars(select(District).where(District.name == "Gmina Mirzec")).one()
        result = board(mirzec, now + dt.timedelta(seconds=1))
        assert result.schools and all(s.running > 0 for s in result.schools)
        made = db.session.scalars(
            select(Lesson).where(Lesson.starts_at <= now, Lesson.ends_at > now)
        )
        assert {lesson.date for lesson in made} == {now.astimezone(WARSAW).date()}
        db.session.remove()
