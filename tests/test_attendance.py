"""Attendance: the roll as one submission, its refusals, and percentages per pupil and subject."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel, update_in_bulk
from ediary.diary.models import Attendance
from ediary.diary.operations import roll, submit_roll
from ediary.diary.queries import attendance_by_subject
from ediary.errors import Refusal
from ediary.timetable.operations import cancel_lesson
from tests.events import capture_events
from tests.factories import make_lesson, make_subject


def _codes(session, lesson):
    rows = session.scalars(select(Attendance).where(Attendance.lesson_id == lesson.id)).all()
    return {a.pupil_id: a.type.code for a in rows}


def test_everyone_present_by_default_and_one_event_per_pupil(world, session):
    captured = capture_events(
        lambda: submit_roll(
            Actor(world.teacher, Channel.KIOSK), world.lesson, {world.classmate.id: "nb"}, base=None
        ),
        "attendance.recorded",
        "attendance.recorded",
    )
    assert captured.result["changed"] == 2
    assert _codes(session, world.lesson) == {world.pupil.id: "ob", world.classmate.id: "nb"}
    assert sorted((e.audience_id, e.payload["code"]) for e in captured.events) == sorted(
        [(world.pupil.id, "ob"), (world.classmate.id, "nb")]
    )


def test_resubmitting_the_same_roll_changes_nothing(world, session):
    actor = Actor(world.teacher, Channel.KIOSK)
    submit_roll(actor, world.lesson, {world.classmate.id: "nb"}, base=None)
    history = session.scalar(select(func.count()).select_from(HistoryEntry))
    again = capture_events(
        lambda: submit_roll(actor, world.lesson, {world.classmate.id: "nb"}, base=None)
    )
    assert again.result["changed"] == 0
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == history


def test_a_change_is_last_writer_wins_with_history_and_previous_state(world, session):
    actor = Actor(world.teacher, Channel.KIOSK)
    submit_roll(actor, world.lesson, {world.classmate.id: "nb"}, base=None)
    captured = capture_events(
        lambda: submit_roll(actor, world.lesson, {world.classmate.id: "sp"}, base=None),
        "attendance.recorded",
    )
    assert _codes(session, world.lesson)[world.classmate.id] == "sp"
    event = captured.events[0]
    assert event.payload["previous_code"] == "nb" and event.payload["code"] == "sp"
    change = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "attendance", HistoryEntry.action == "update")
        .order_by(HistoryEntry.id)
    ).one()
    assert change.pupil_id == world.classmate.id and change.actor_id == world.teacher.id


def test_a_change_gives_the_row_its_next_version(world, session):
    actor = Actor(world.teacher, Channel.KIOSK)
    submit_roll(actor, world.lesson, {world.classmate.id: "nb"}, base=None)
    submit_roll(actor, world.lesson, {world.classmate.id: "sp"}, base=None)
    query = select(Attendance).where(Attendance.pupil_id == world.classmate.id)
    record = session.scalars(query).one()
    assert (record.version, record.type.code) == (2, "sp")
    session.expire_all()
    record = session.scalars(query).one()
    assert (record.version, record.type.code) == (2, "sp")


def test_a_row_changed_meanwhile_fails_the_roll(world, session, monkeypatch):
    """Rows are versioned: a roll compares with the rows it reads, and another writer that
    commits between that read and the roll's write fails the roll (the kiosk retries from a
    fresh read, where the comparison sees that writer's value) instead of overwriting what the
    comparison has not seen."""
    actor = Actor(world.teacher, Channel.KIOSK)
    submit_roll(actor, world.lesson, {world.classmate.id: "nb"}, base=None)
    record = session.scalars(
        select(Attendance).where(Attendance.pupil_id == world.classmate.id)
    ).one()

    def other_writer_first(actor: Actor, changes: Any) -> None:
        # The roll has read the rows and compared; another writer changes one before it writes.
        session.connection().execute(
            update(Attendance)
            .where(Attendance.id == record.id)
            .values(version=Attendance.version + 1)
        )
        update_in_bulk(actor, changes)

    monkeypatch.setattr(roll, "update_in_bulk", other_writer_first)
    with pytest.raises(StaleDataError):
        submit_roll(
            actor, world.lesson, {world.classmate.id: "sp", world.pupil.id: "nb"}, base=None
        )
    session.rollback()


@pytest.mark.parametrize(
    ("states", "code"),
    [
        (lambda w: {w.pupil_b.id: "nb"}, "pupil_not_in_lesson"),  # a pupil of another class
        (lambda w: {w.pupil_other_school.id: "ob"}, "pupil_not_in_lesson"),
        (lambda w: {w.pupil.id: "xx"}, "attendance_unknown"),
    ],
)
def test_refused_rolls_write_nothing(world, session, states, code):
    with pytest.raises(Refusal) as refused:
        submit_roll(Actor(world.teacher, Channel.KIOSK), world.lesson, states(world), base=None)
    assert refused.value.code == code
    session.rollback()
    assert _codes(session, world.lesson) == {}


def test_cancelled_lesson_refuses_a_roll(world, session):
    cancel_lesson(Actor(world.school_admin, Channel.WEB), world.lesson)
    with pytest.raises(Refusal, match="lesson_cancelled"):
        submit_roll(Actor(world.teacher, Channel.KIOSK), world.lesson, {}, base=None)


def test_empty_or_long_topic_refused(world, session):
    with pytest.raises(Refusal, match="topic_empty"):
        submit_roll(Actor(world.teacher, Channel.KIOSK), world.lesson, {}, topic="   ", base=None)
    with pytest.raises(Refusal, match="topic_too_long"):
        submit_roll(
            Actor(world.teacher, Channel.KIOSK), world.lesson, {}, topic="x" * 501, base=None
        )


@pytest.mark.calendar
def test_percentages_per_subject_by_hand(world, session):
    """Math: ob, sp, nb, u → present 2 of 4 (50.0%); a cancelled lesson does not count.
    Polish: ob, ns, zw → 3 of 3 present (school reasons and release are not absences)."""
    teacher = Actor(world.teacher, Channel.KIOSK)
    polish = make_subject(world.school, "język polski", "pol")
    math_states = ["ob", "sp", "nb", "u"]
    for days_ago, code in enumerate(math_states, start=1):
        lesson = make_lesson(
            world.school,
            world.class_a,
            world.math,
            world.teacher,
            world.room,
            world.today - dt.timedelta(days=7 * days_ago),
            slot_number=2,
        )
        submit_roll(teacher, lesson, {world.pupil.id: code}, base=None)
    cancelled = make_lesson(
        world.school,
        world.class_a,
        world.math,
        world.teacher,
        world.room,
        world.today - dt.timedelta(days=35),
        slot_number=2,
    )
    submit_roll(teacher, cancelled, {world.pupil.id: "nb"}, base=None)
    cancel_lesson(Actor(world.school_admin, Channel.WEB), cancelled)  # recorded by mistake
    for days_ago, code in enumerate(["ob", "ns", "zw"], start=1):
        lesson = make_lesson(
            world.school,
            world.class_a,
            polish,
            world.teacher,
            world.room,
            world.today - dt.timedelta(days=7 * days_ago),
            slot_number=3,
        )
        submit_roll(teacher, lesson, {world.pupil.id: code}, base=None)

    summary = attendance_by_subject(world.pupil)
    math = summary[world.math.id]
    assert (math.present, math.absent, math.present_percent) == (2, 2, Decimal("50.0"))
    assert math.by_code == {"ob": 1, "sp": 1, "nb": 1, "u": 1}
    assert math.warns(world.school.absence_warning_percent)
    assert summary[polish.id].present_percent == Decimal("100.0")
    assert not summary[polish.id].warns(world.school.absence_warning_percent)


def test_no_lessons_no_percentage(world, session):
    assert attendance_by_subject(world.pupil) == {}
