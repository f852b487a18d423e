"""Helpers of the gmina's tests: a morning at the world's school, pinned."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ediary.audit.recording import Actor, Channel
from ediary.diary.operations import submit_roll
from ediary.timetable.models import Lesson
from tests.factories import World, make_lesson, make_room, make_subject

WARSAW = ZoneInfo("Europe/Warsaw")


def at(world: World, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(world.today, dt.time(hour, minute), tzinfo=WARSAW)


def morning(world: World) -> dict[str, Lesson]:
    """Slot 1 (8:00) and slot 2 (9:00) of the world's school: 5a maths in room 12 (the world's
    lesson) and 5b Polish in room 14 in slot 1; 5a in slot 2."""
    polish = make_subject(world.school, "język polski", "pol")
    room14 = make_room(world.school, "14")
    b1 = make_lesson(world.school, world.class_b, polish, world.other_teacher, room14, world.today)
    a2 = make_lesson(
        world.school, world.class_a, world.math, world.teacher, world.room, world.today, 2
    )
    return {"a1": world.lesson, "b1": b1, "a2": a2}


def roll(world: World, lesson: Lesson, states: dict[int, str], teacher: Any = None) -> None:
    actor = Actor(teacher or world.teacher, Channel.WEB)
    submit_roll(actor, lesson, states, base=None)
