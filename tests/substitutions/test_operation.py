"""The school administrator's substitution (issue 14 item 3): the lesson goes to the substitute,
the absent teacher is kept, parents hear of it (`lesson.substituted`), and the refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.diary.operations import set_topic
from ediary.errors import Conflict, Refusal
from ediary.timetable.operations import cancel_lesson, substitute_lesson
from tests import factories
from tests.events import capture_events
from tests.factories import World


def _admin(world: World) -> Actor:
    return Actor(world.school_admin, Channel.WEB)


def test_the_substitute_takes_the_lesson_and_parents_hear_of_it(
    world: World, session: Session
) -> None:
    captured = capture_events(
        lambda: substitute_lesson(_admin(world), world.lesson, world.other_teacher),
        "lesson.substituted",
    )
    (event,) = captured.events
    assert event.audience_id == world.class_a.id
    assert event.payload["teacher"] == world.other_teacher.full_name
    assert world.lesson.teacher_id == world.other_teacher.id
    assert world.lesson.substitute_for_id == world.teacher.id
    change = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "lessons", HistoryEntry.entity_id == world.lesson.id)
        .order_by(HistoryEntry.id)
    ).all()[-1]
    assert (change.actor_id, change.channel) == (world.school_admin.id, "web")
    assert change.new is not None and change.new["teacher_id"] == world.other_teacher.id
    # Sent twice: nothing changes, nothing is published.
    capture_events(lambda: substitute_lesson(_admin(world), world.lesson, world.other_teacher))


def test_a_substitute_teaching_elsewhere_at_that_time_is_refused(
    world: World, session: Session
) -> None:
    elsewhere = factories.make_room(world.school, "7")
    factories.make_lesson(
        world.school, world.class_b, world.math, world.other_teacher, elsewhere, world.today
    )

    def busy() -> None:
        with pytest.raises(Refusal, match="substitute_busy"):
            substitute_lesson(_admin(world), world.lesson, world.other_teacher)

    capture_events(busy)
    assert world.lesson.teacher_id == world.teacher.id


def test_a_cancelled_other_lesson_does_not_make_the_substitute_busy(
    world: World, session: Session
) -> None:
    elsewhere = factories.make_room(world.school, "7")
    other = factories.make_lesson(
        world.school, world.class_b, world.math, world.other_teacher, elsewhere, world.today
    )
    cancel_lesson(_admin(world), other)
    capture_events(
        lambda: substitute_lesson(_admin(world), world.lesson, world.other_teacher),
        "lesson.substituted",
    )


def test_stale_version_held_lesson_and_foreign_teacher_are_refused(
    world: World, session: Session
) -> None:
    shown = world.lesson.version
    cancel_lesson(_admin(world), world.lesson)
    with pytest.raises(Conflict) as conflict:
        substitute_lesson(_admin(world), world.lesson, world.other_teacher, base_version=shown)
    assert conflict.value.status == 409
    with pytest.raises(Refusal, match="not_a_teacher"):
        substitute_lesson(_admin(world), world.lesson, world.secretary)
    with pytest.raises(Refusal, match="lesson_cancelled"):
        substitute_lesson(_admin(world), world.lesson, world.other_teacher)


def test_a_held_lesson_keeps_its_teacher(world: World, session: Session) -> None:
    set_topic(Actor(world.teacher, Channel.KIOSK), world.lesson, "Ułamki")

    def held() -> None:
        with pytest.raises(Refusal, match="lesson_held"):
            substitute_lesson(_admin(world), world.lesson, world.other_teacher)

    capture_events(held)
    assert world.lesson.teacher_id == world.teacher.id
