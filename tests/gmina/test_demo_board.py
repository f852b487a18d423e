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
from ediary.demo.now import demo_lesson_now
from ediary.diary.models import Attendance
from ediary.district.board import board
from ediary.schools.models import District
from ediary.timetable.models import Lesson, LessonStatus
from tests.test_demo_seed import Demo

pytestmark = pytest.mark.shared_clock
WARSAW = ZoneInfo("Europe/Warsaw")


def _warsaw_midnight(at: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(at.astimezone(WARSAW).date(), dt.time(), tzinfo=WARSAW)


def _a_morning(app: Flask, now: dt.datetime) -> None:
    """The board at `now` after the demo made its morning there: lessons under way in every
    school, most rolls taken, some missing and late, a cancellation, nobody in two places; a
    second run makes nothing more."""
    with app.app_context():
        board_morning(Actor.system(Channel.SYSTEM), now)
        db.session.commit()
        assert board_morning(Actor.system(Channel.SYSTEM), now) == 0  # a morning already
        mirzec = db.session.scalars(select(District).where(District.name == "Gmina Mirzec")).one()
        result = board(mirzec, now + dt.timedelta(seconds=1))
        assert result.schools and all(s.running > 0 for s in result.schools)
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


def _today_at(hour: int, minute: int) -> dt.datetime:
    """Today at the school at `hour`:`minute`."""
    return _warsaw_midnight(utcnow()).replace(hour=hour, minute=minute).astimezone(dt.UTC)


def test_the_demo_board_is_a_morning_in_the_evening(
    demo_copy: Demo, app_on: Callable[..., Flask]
) -> None:
    """At 21:00 the timetable has nothing under way: the demo makes the morning's lessons."""
    _a_morning(app_on(demo_copy.url), _today_at(21, 0))


def test_during_a_lesson_the_timetable_s_own_lessons_have_the_morning_s_news(
    demo_copy: Demo, app_on: Callable[..., Flask]
) -> None:
    """A quarter of an hour into a lesson of the timetable, in every school: the demo seeds no
    rolls for it (only for lessons over when it runs), so the board showed every roll missing
    until the demo took the morning's news for those lessons too (a run of the suite at 10:30
    found it). The demo teacher's lesson, made first as `ediary demo` does, is left alone."""
    app = app_on(demo_copy.url)
    with app.app_context():
        # The first bell after the seed ran (the clock is past it: it rolled what was over),
        # on whatever school day of the demo's window that is, before the small schools' last
        # lesson of that day is over.
        bells = db.session.scalars(
            select(Lesson.starts_at)
            .where(Lesson.starts_at > utcnow())
            .distinct()
            .order_by(Lesson.starts_at)
            .limit(200)
        ).all()
        bell = next(b for b in bells if b.astimezone(WARSAW).time() < dt.time(13))
        now = bell + dt.timedelta(minutes=15)
        mine = demo_lesson_now(Actor.system(Channel.SYSTEM), now).lesson
        db.session.commit()
        db.session.remove()
    _a_morning(app, now)
    with app.app_context():
        taken = select(Attendance.id).where(Attendance.lesson_id == mine.id)
        assert db.session.scalars(taken).first() is None
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
