"""Editing a cell of the plan: clashes before saving, refusals with what clashes, and the
future lessons made again from the date (never the past ones, never ones with entries)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, operation
from ediary.errors import Conflict, Refusal
from ediary.timetable.grid import cell_fingerprint, clashes, class_cell, plan_on, set_cell
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.operations import cancel_lesson
from ediary.timetable.regenerate import apply_timetable
from tests.events import capture_events
from tests.factories import World
from tests.timetable.helpers import Plan, admin, make_plan

WEDNESDAY, THURSDAY = 2, 3


@operation
def _topic(actor: Actor, lesson: Lesson, topic: str) -> None:
    lesson.topic = topic


def _lessons(world: World, **where: object) -> list[Lesson]:
    query = select(Lesson).filter_by(school_id=world.school.id, **where).order_by(Lesson.date)
    return list(world_session().scalars(query))


def world_session() -> Session:
    from ediary.db import db

    return db.session()


def _next(world: World, weekday: int) -> dt.date:
    return world.today + dt.timedelta(days=(weekday - world.today.weekday()) % 7 or 7)


@pytest.fixture
def plan(world: World, session: Session) -> Plan:
    return make_plan(world)


def test_clashes_name_the_teacher_the_room_the_class_and_the_hours(
    world: World, plan: Plan
) -> None:
    current = plan_on(world.school.id, world.today)
    # The tutor's physics for 5b in room 12, Wednesday slot 1: room 12 has the world's math.
    found = clashes(current, WEDNESDAY, 1, plan.physics_5b, world.room)
    assert [c.code for c in found] == ["room"]
    assert "Sala 12 jest wtedy zajęta: matematyka, 5a" in found[0].message
    # Physics for 5a there: the class has math then.
    found = clashes(current, WEDNESDAY, 1, plan.physics_5a, plan.room_b)
    assert [c.code for c in found] == ["class"]
    # Math for 5a on Thursday: one more than... no, 4 hours: free. With 1 hour: over.
    assert clashes(current, THURSDAY, 1, plan.math_5a, world.room) == []
    plan.math_5a.weekly_hours = 1
    found = clashes(current, THURSDAY, 1, plan.math_5a, world.room)
    assert [c.code for c in found] == ["hours"] and "przydział ma 1" in found[0].message
    # A language group beside the other half of the class is no clash; beside math it is.
    assert [c.code for c in clashes(current, THURSDAY, 1, plan.english_5a_1, plan.room_b)] == []
    assert [c.code for c in clashes(current, WEDNESDAY, 1, plan.english_5a_1, plan.room_b)] == [
        "class"
    ]


def test_a_clash_is_refused_on_save_with_what_clashes(world: World, plan: Plan) -> None:
    monday = _next(world, 0)
    set_cell(
        admin(world),
        world.school,
        world.class_b,
        0,
        2,
        plan.physics_5b,
        plan.room_b,
        from_date=monday,
    )

    def refused() -> None:
        with pytest.raises(Refusal) as refusal:
            set_cell(
                admin(world),
                world.school,
                world.class_a,
                0,
                2,
                plan.physics_5a,
                plan.room_b,
                from_date=monday,
            )
        assert refusal.value.details["clashes"] == ["teacher", "room"]
        assert "Jan" in str(refusal.value.message) and "fizyka, 5b" in str(refusal.value.message)

    capture_events(refused)


def test_a_stale_cell_is_a_conflict(world: World, plan: Plan) -> None:
    cell = class_cell(plan_on(world.school.id, world.today), world.class_a, WEDNESDAY, 1)
    seen = cell_fingerprint(cell)
    monday = _next(world, 0)
    set_cell(admin(world), world.school, world.class_a, WEDNESDAY, 1, None, None, from_date=monday)
    with pytest.raises(Conflict):
        set_cell(
            admin(world),
            world.school,
            world.class_a,
            WEDNESDAY,
            1,
            plan.physics_5a,
            plan.room_b,
            from_date=monday,
            seen=seen,
        )


def test_changing_a_cell_from_a_date_regenerates_only_the_future_untouched_lessons(
    world: World, plan: Plan
) -> None:
    actor = admin(world)
    made = capture_events(
        lambda: apply_timetable(actor, world.school, world.today), "timetable.changed"
    )
    wednesdays = _lessons(world, class_id=world.class_a.id)
    assert wednesdays[0].id == world.lesson.id  # today's, begun: kept, not made twice
    assert made.result["added"] == len(wednesdays) - 1 > 20
    assert {w.date.weekday() for w in wednesdays} == {WEDNESDAY}
    assert made.events[0].payload["added"] == made.result["added"]
    # Next Wednesday's lesson has a topic; the one after is cancelled: both decided by people.
    next_wed, after = wednesdays[1], wednesdays[2]
    _topic(actor, next_wed, "Ułamki")
    cancel_lesson(actor, after)

    # From today, math moves to slot 2 on Wednesdays, in room 14.
    changed = capture_events(
        lambda: set_cell(
            actor,
            world.school,
            world.class_a,
            WEDNESDAY,
            2,
            plan.math_5a,
            plan.room_b,
            from_date=world.today,
        ),
        "timetable.changed",
    )
    assert changed.result["added"] == len(wednesdays) - 1
    assert changed.result["removed"] == 0  # slot 1 keeps math too: a new entry, not a move
    moved = capture_events(
        lambda: set_cell(
            actor, world.school, world.class_a, WEDNESDAY, 1, None, None, from_date=world.today
        ),
        "timetable.changed",
    )
    # Slot 1 emptied: today's begun lesson, the one with a topic and the cancelled one stay.
    assert moved.result["removed"] == len(wednesdays) - 3
    slot_1 = _lessons(world, class_id=world.class_a.id, slot_number=1)
    assert [lesson.id for lesson in slot_1] == [world.lesson.id, next_wed.id, after.id]
    assert next_wed.topic == "Ułamki" and after.status is LessonStatus.CANCELLED
    slot_2 = _lessons(world, class_id=world.class_a.id, slot_number=2)
    assert {lesson.room_id for lesson in slot_2} == {plan.room_b.id}
    # Applying again changes nothing and says nothing.
    again = capture_events(lambda: apply_timetable(actor, world.school, world.today))
    assert again.result == {"added": 0, "removed": 0, "changed": 0}


def test_the_plan_is_not_changed_for_past_days(world: World, plan: Plan) -> None:
    def refused() -> None:
        with pytest.raises(Refusal, match="date_past"):
            set_cell(
                admin(world),
                world.school,
                world.class_b,
                0,
                2,
                plan.physics_5b,
                plan.room_b,
                from_date=world.today - dt.timedelta(days=1),
            )

    capture_events(refused)
