"""The bell schedule, subjects, rooms and teaching assignments: the operations and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.errors import Conflict, Refusal
from ediary.timetable.models import TeachingAssignment
from ediary.timetable.planning import (
    SlotTimes,
    bell_slots,
    bells_fingerprint,
    remove_assignment,
    save_assignment,
    save_bell_schedule,
    save_room,
    save_subject,
)
from tests.events import capture_events
from tests.factories import World
from tests.timetable.helpers import admin, make_plan


def _t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _slots(*spans: str) -> list[SlotTimes]:
    """`"1 08:00-08:45"` per lesson."""
    made = []
    for span in spans:
        number, times = span.split()
        start, end = times.split("-")
        made.append(SlotTimes(int(number), _t(start), _t(end)))
    return made


def test_the_bell_schedule_is_saved_with_its_history(world: World, session: Session) -> None:
    seen = bells_fingerprint(bell_slots(world.school.id))
    wanted = [SlotTimes(1, _t("08:00"), _t("08:45")), SlotTimes(2, _t("08:55"), _t("09:40"))]
    saved = capture_events(
        lambda: save_bell_schedule(admin(world), world.school, wanted, seen=seen)
    )
    assert [(s.number, s.starts_at, s.ends_at) for s in saved.result] == [
        (1, _t("08:00"), _t("08:45")),
        (2, _t("08:55"), _t("09:40")),
    ]
    history = session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "bell_slots").order_by(HistoryEntry.id)
    ).all()
    assert any(h.actor_id == world.school_admin.id and h.channel == "web" for h in history)
    # The page that showed the old schedule is stale now.
    with pytest.raises(Conflict):
        save_bell_schedule(admin(world), world.school, wanted, seen=seen)


@pytest.mark.parametrize(
    ("wanted", "code"),
    [
        (_slots("1 08:00-08:45", "2 08:40-09:25"), "bells_overlap"),
        (_slots("1 09:00-09:45", "2 08:00-08:45"), "bells_overlap"),
        (_slots("1 08:45-08:00"), "bells_order"),
        (_slots("1 08:00-08:45", "1 09:00-09:45"), "bells_duplicate"),
        (_slots("16 08:00-08:45"), "bells_number"),
    ],
)
def test_a_bell_schedule_with_overlaps_or_out_of_order_is_refused(
    world: World, session: Session, wanted: list[SlotTimes], code: str
) -> None:
    def refused() -> None:
        with pytest.raises(Refusal) as refusal:
            save_bell_schedule(admin(world), world.school, wanted)
        assert refusal.value.code == code

    capture_events(refused)


def test_a_lesson_number_in_the_timetable_cannot_go(world: World, session: Session) -> None:
    with pytest.raises(Refusal) as refusal:
        save_bell_schedule(admin(world), world.school, [SlotTimes(2, _t("09:00"), _t("09:45"))])
    assert refusal.value.code == "bells_in_use"
    assert "nr 1" in str(refusal.value.message)


def test_subjects_and_rooms_are_unique_in_the_school(world: World, session: Session) -> None:
    physics = save_subject(admin(world), world.school, None, "  fizyka ", "fiz")
    assert (physics.name, physics.short_name) == ("fizyka", "fiz")
    with pytest.raises(Refusal, match="subject_exists"):
        save_subject(admin(world), world.school, None, "Matematyka", "m")
    with pytest.raises(Refusal, match="subject_short_empty"):
        save_subject(admin(world), world.school, physics, "fizyka", " ")
    renamed = save_subject(admin(world), world.school, physics, "fizyka i astronomia", "fiz")
    assert renamed.id == physics.id and renamed.name == "fizyka i astronomia"
    room = save_room(admin(world), world.school, None, "sala gimnastyczna")
    with pytest.raises(Refusal, match="room_exists"):
        save_room(admin(world), world.school, None, "12")
    with pytest.raises(Refusal, match="room_name_too_long"):
        save_room(admin(world), world.school, room, "x" * 41)


def test_an_assignment_has_its_weekly_hours_and_a_teacher_of_the_school(
    world: World, session: Session
) -> None:
    school = world.school
    made = save_assignment(admin(world), school, world.tutor, world.class_b, world.math, None, 4)
    again = save_assignment(admin(world), school, world.tutor, world.class_b, world.math, None, 5)
    assert again.id == made.id and again.weekly_hours == 5
    with pytest.raises(Refusal, match="hours_range"):
        save_assignment(admin(world), school, world.tutor, world.class_b, world.math, None, 0)
    with pytest.raises(Refusal, match="not_a_teacher"):
        save_assignment(admin(world), school, world.parent, world.class_b, world.math, None, 1)
    plan = make_plan(world)
    with pytest.raises(Refusal, match="group_other_class"):
        save_assignment(
            admin(world), school, world.tutor, world.class_b, world.math, plan.group_1, 1
        )


def test_an_assignment_never_placed_can_be_removed_one_in_the_plan_stays(
    world: World, session: Session
) -> None:
    plan = make_plan(world)
    remove_assignment(admin(world), world.school, plan.physics_5b)
    assert session.get(TeachingAssignment, plan.physics_5b.id) is None
    with pytest.raises(Refusal, match="assignment_in_plan"):
        remove_assignment(admin(world), world.school, plan.math_5a)
    with pytest.raises(Refusal, match="other_school"):
        remove_assignment(admin(world), world.other_school, plan.physics_5a)
