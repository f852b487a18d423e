"""The demo's board looks like a school-day morning whatever the hour: lessons under way in
every school, most rolls taken, some missing and late (schools behind), nobody in two places."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

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

pytestmark = pytest.mark.real_clock


def test_the_demo_board_is_a_morning_at_any_hour(
    demo_copy: Demo, app_on: Callable[..., Flask]
) -> None:
    app = app_on(demo_copy.url)
    with app.app_context():
        now = utcnow()
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
