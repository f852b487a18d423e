"""English of 5a in two groups at the same time: the absent teacher's group and a group with a
present teacher, for the merging tests (issue 14 item 3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ediary.audit.recording import Actor, operation
from ediary.schools.models import ClassGroup
from ediary.schools.operations import add_to_group
from ediary.timetable.models import Lesson
from tests import factories
from tests.factories import SYSTEM, World


@dataclass
class Groups:
    """5a's English in two groups in lesson 2: group 1 (Zosia) with the absent teacher, group 2
    (Adam) with Ewa Zielinska in room 7."""

    ours: Lesson
    theirs: Lesson
    one: ClassGroup
    two: ClassGroup


def make_groups(world: World, day: dt.date | None = None) -> Groups:
    english = factories.make_subject(world.school, "język angielski", "ang")
    one = ClassGroup(school_id=world.school.id, class_id=world.class_a.id, name="ang. gr. 1")
    two = ClassGroup(school_id=world.school.id, class_id=world.class_a.id, name="ang. gr. 2")
    factories._add(SYSTEM, one, two)
    add_to_group(SYSTEM, one, world.pupil)
    add_to_group(SYSTEM, two, world.classmate)
    seven = factories.make_room(world.school, "7")
    day = day or world.today
    ours = factories.make_lesson(
        world.school, world.class_a, english, world.teacher, world.room, day, 2
    )
    theirs = factories.make_lesson(
        world.school, world.class_a, english, world.other_teacher, seven, day, 2
    )
    _for_groups(SYSTEM, (ours, one), (theirs, two))
    return Groups(ours, theirs, one, two)


@operation
def _for_groups(actor: Actor, *pairs: tuple[Lesson, ClassGroup]) -> None:
    for lesson, group in pairs:
        lesson.group_id = group.id
