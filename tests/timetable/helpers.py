"""A small plan on top of the test world: bells 1-3, a second room, physics for 5a and 5b."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.schools.models import ClassGroup, Room, Subject
from ediary.timetable.models import TeachingAssignment
from ediary.timetable.planning import SlotTimes, save_assignment, save_bell_schedule
from tests.factories import SYSTEM, World, make_room, make_subject


@dataclass
class Plan:
    world: World
    physics: Subject
    room_b: Room
    group_1: ClassGroup
    math_5a: TeachingAssignment  # the world's lesson's: Wednesday, slot 1, room 12
    physics_5a: TeachingAssignment  # the tutor
    physics_5b: TeachingAssignment  # the tutor
    english_5a_1: TeachingAssignment  # other_teacher, group 1 of 5a


def admin(world: World) -> Actor:
    return Actor(world.school_admin, Channel.WEB)


@operation
def _add(actor: Actor, *rows: object) -> None:
    db.session.add_all(rows)


def make_plan(world: World) -> Plan:
    save_bell_schedule(
        SYSTEM,
        world.school,
        [
            SlotTimes(n, dt.time(7 + n, 0), dt.time(7 + n, 45))  # 8:00, 9:00, 10:00
            for n in (1, 2, 3)
        ],
    )
    physics = make_subject(world.school, "fizyka", "fiz")
    english = make_subject(world.school, "język angielski", "ang")
    room_b = make_room(world.school, "14")
    group_1 = ClassGroup(school_id=world.school.id, class_id=world.class_a.id, name="gr. 1")
    _add(SYSTEM, group_1)
    school = world.school
    math_5a = save_assignment(SYSTEM, school, world.teacher, world.class_a, world.math, None, 4)
    return Plan(
        world=world,
        physics=physics,
        room_b=room_b,
        group_1=group_1,
        math_5a=math_5a,
        physics_5a=save_assignment(SYSTEM, school, world.tutor, world.class_a, physics, None, 2),
        physics_5b=save_assignment(SYSTEM, school, world.tutor, world.class_b, physics, None, 1),
        english_5a_1=save_assignment(
            SYSTEM, school, world.other_teacher, world.class_a, english, group_1, 3
        ),
    )
