"""Helpers for the portal's tests: a day of school for the factories' world."""

from __future__ import annotations

import datetime as dt

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.models import Attendance, RemarkKind
from ediary.diary.operations import add_remark, record_grade, submit_roll
from ediary.timetable.models import Lesson
from tests.factories import World, make_lesson


def teacher(world: World) -> Actor:
    return Actor(world.teacher, Channel.WEB)


def absent_at(world: World, lesson: Lesson, code: str = "nb") -> Attendance:
    """The world's pupil recorded with `code` (everyone else present) in `lesson`."""
    submit_roll(teacher(world), lesson, {world.pupil.id: code}, base=None)
    record = db.session.query(Attendance).filter_by(lesson_id=lesson.id, pupil_id=world.pupil.id)
    return record.one()


def second_lesson(world: World, date: dt.date | None = None, slot: int = 2) -> Lesson:
    return make_lesson(
        world.school,
        world.class_a,
        world.math,
        world.teacher,
        world.room,
        date or world.today,
        slot,
    )


def a_school_day(world: World) -> None:
    """Grades, a remark and an absence at the first lesson for the world's pupil."""
    actor = teacher(world)
    record_grade(
        actor, pupil=world.pupil, subject=world.math, value="4+",
        category=world.test_category, given_on=world.today,
    )  # fmt: skip
    record_grade(
        actor, pupil=world.pupil, subject=world.math, value="3",
        category=world.quiz_category, given_on=world.today,
    )  # fmt: skip
    add_remark(
        actor, pupil=world.pupil, kind=RemarkKind.POSITIVE, text="Pomaga kolegom.",
        given_on=world.today,
    )  # fmt: skip
    submit_roll(actor, world.lesson, {world.pupil.id: "nb"}, topic="Ułamki zwykłe", base=None)
