"""Every event type, published by its operation and checked by `capture_events` (Zulip's
test_events.py): one case per catalogue type, and a case missing for a new type fails."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

import pytest

from ediary.audit.recording import Actor, Channel
from ediary.diary.models import Grade, Remark, RemarkKind
from ediary.diary.operations import (
    add_remark,
    correct_grade,
    correct_remark,
    record_grade,
    remove_grade,
    remove_remark,
    set_topic,
    submit_roll,
)
from ediary.excuses.models import ExcuseRequest
from ediary.excuses.operations import decide_excuses, request_excuse
from ediary.journal.catalogue import EVENT_TYPES
from ediary.journal.operations import publish
from ediary.kiosks.operations import revoke_kiosk
from ediary.timetable.operations import cancel_lesson
from tests.events import Captured, capture_events, check_event
from tests.factories import World


def _teacher(world: World) -> Actor:
    return Actor(world.teacher, Channel.WEB)


def _grade(world: World) -> Grade:
    return record_grade(
        _teacher(world), pupil=world.pupil, subject=world.math, value="4",
        category=world.test_category, given_on=world.today,
    )  # fmt: skip


def _remark(world: World) -> Remark:
    return add_remark(
        _teacher(world), pupil=world.pupil, kind=RemarkKind.POSITIVE, text="Pomaga kolegom.",
        given_on=world.today,
    )  # fmt: skip


def _request(world: World) -> ExcuseRequest:
    return request_excuse(
        Actor(world.parent, Channel.WEB), world.pupil, absences=[], future_days=[world.today],
        reason="Lekarz.", note=None, today=world.today,
    )  # fmt: skip


def _lesson_fields(world: World) -> dict[str, Any]:
    return {
        "lesson_id": world.lesson.id,
        "date": world.today.isoformat(),
        "slot_number": 1,
        "subject": "matematyka",
    }


def _grade_fields(world: World, grade: Grade, value: str) -> dict[str, Any]:
    return {
        "pupil_id": world.pupil.id, "grade_id": grade.id, "subject": "matematyka",
        "kind": "ongoing", "value": value, "descriptive": None, "category": "sprawdzian",
        "weight": 3, "description": None, "given_on": world.today.isoformat(),
        "teacher": "Anna Nowak", "improves_id": None,
    }  # fmt: skip


def _attendance(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    captured = capture_events(
        lambda: submit_roll(_teacher(world), world.lesson, {world.pupil.id: "nb"}, base=None),
        "attendance.recorded",  # the roster in name order: Lewandowski (the default), Wiśniewska
        "attendance.recorded",
    )
    payload = _lesson_fields(world) | {
        "pupil_id": world.pupil.id, "code": "nb", "name": "nieobecny", "counts_as": "absent",
        "excused": False, "previous_code": None,
    }  # fmt: skip
    assert captured.events[0].payload["pupil_id"] == world.classmate.id
    return captured, world.pupil.id, payload


def _grade_added(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    captured = capture_events(lambda: _grade(world), "grade.added")
    return captured, world.pupil.id, _grade_fields(world, captured.result, "4")


def _grade_changed(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    grade = _grade(world)
    captured = capture_events(
        lambda: correct_grade(_teacher(world), grade, value="5", category=world.test_category),
        "grade.changed",
    )
    return captured, world.pupil.id, _grade_fields(world, grade, "5")


def _grade_removed(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    grade = _grade(world)
    captured = capture_events(lambda: remove_grade(_teacher(world), grade), "grade.removed")
    payload = {"pupil_id": world.pupil.id, "grade_id": grade.id, "subject": "matematyka"}
    return captured, world.pupil.id, payload


def _remark_fields(world: World, remark: Remark, kind: str, text: str) -> dict[str, Any]:
    return {
        "pupil_id": world.pupil.id, "remark_id": remark.id, "kind": kind, "text": text,
        "given_on": world.today.isoformat(), "teacher": "Anna Nowak",
    }  # fmt: skip


def _remark_added(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    captured = capture_events(lambda: _remark(world), "remark.added")
    return (
        captured,
        world.pupil.id,
        _remark_fields(world, captured.result, "positive", "Pomaga kolegom."),
    )


def _remark_changed(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    remark = _remark(world)
    captured = capture_events(
        lambda: correct_remark(
            _teacher(world), remark, kind=RemarkKind.NEGATIVE, text="Przeszkadza."
        ),
        "remark.changed",
    )
    return captured, world.pupil.id, _remark_fields(world, remark, "negative", "Przeszkadza.")


def _remark_removed(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    remark = _remark(world)
    captured = capture_events(lambda: remove_remark(_teacher(world), remark), "remark.removed")
    return captured, world.pupil.id, {"pupil_id": world.pupil.id, "remark_id": remark.id}


def _lesson_topic(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    captured = capture_events(
        lambda: set_topic(_teacher(world), world.lesson, " Ułamki "), "lesson.topic"
    )
    payload = _lesson_fields(world) | {"class_id": world.class_a.id, "topic": "Ułamki"}
    return captured, world.class_a.id, payload


def _lesson_cancelled(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    captured = capture_events(
        lambda: cancel_lesson(Actor(world.school_admin, Channel.WEB), world.lesson),
        "lesson.cancelled",
    )
    return captured, world.class_a.id, _lesson_fields(world) | {"class_id": world.class_a.id}


def _kiosk_revoked(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    captured = capture_events(
        lambda: revoke_kiosk(Actor(world.school_admin, Channel.WEB), world.kiosk),
        "kiosk.revoked",
    )
    return captured, world.kiosk.id, {"kiosk_id": world.kiosk.id}


def _excuse_fields(world: World, request: ExcuseRequest, status: str) -> dict[str, Any]:
    day = world.today.isoformat()
    return {
        "pupil_id": world.pupil.id, "excuse_id": request.id, "status": status,
        "first_date": day, "last_date": day, "absences": 1,
    }  # fmt: skip


def _excuse_requested(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    captured = capture_events(lambda: _request(world), "excuse.requested")
    return captured, world.pupil.id, _excuse_fields(world, captured.result, "pending")


def _excuse_decided(world: World) -> tuple[Captured[Any], int, dict[str, Any]]:
    request = _request(world)
    captured = capture_events(
        lambda: decide_excuses(Actor(world.tutor, Channel.WEB), [request], approve=False),
        "excuse.decided",
    )
    return captured, world.pupil.id, _excuse_fields(world, request, "rejected")


# Each type's case: runs its operation under capture_events; returns the capture, the audience
# id the event must name and its whole payload.
CASES: dict[str, Callable[[World], tuple[Captured[Any], int, dict[str, Any]]]] = {
    "attendance.recorded": _attendance,
    "grade.added": _grade_added,
    "grade.changed": _grade_changed,
    "grade.removed": _grade_removed,
    "remark.added": _remark_added,
    "remark.changed": _remark_changed,
    "remark.removed": _remark_removed,
    "lesson.topic": _lesson_topic,
    "lesson.cancelled": _lesson_cancelled,
    "kiosk.revoked": _kiosk_revoked,
    "excuse.requested": _excuse_requested,
    "excuse.decided": _excuse_decided,
}


def test_every_catalogue_type_has_its_case() -> None:
    assert sorted(CASES) == sorted(EVENT_TYPES)


@pytest.mark.parametrize("type_name", sorted(CASES))
def test_the_operation_publishes_its_event_to_its_audience(
    type_name: str, world: World, session: object
) -> None:
    captured, audience_id, payload = CASES[type_name](world)
    event = captured.events[-1]  # the one the case describes (a roll's first is a classmate's)
    assert (event.type, event.school_id, event.audience_id) == (
        type_name,
        world.school.id,
        audience_id,
    )
    assert event.payload == payload


def test_publish_has_one_overload_per_payload_of_the_catalogue() -> None:
    """mypy checks callers against the overloads; this keeps them the catalogue's."""
    named: dict[str, type] = {}
    for overload in typing.get_overloads(publish):
        hints = typing.get_type_hints(overload)
        assert get_origin(hints["type_name"]) is Literal
        (payload,) = get_args(hints["payload"])  # Unpack[ThePayload]
        for name in get_args(hints["type_name"]):
            assert name not in named, f"{name}: two overloads"
            named[name] = payload
    assert sorted(named) == sorted(EVENT_TYPES)
    for name, payload in named.items():
        declared = EVENT_TYPES[name].payload
        # A type whose payload extends another's (grade.changed's) may share its overload:
        # the same fields of the same types.
        assert typing.get_type_hints(declared) == typing.get_type_hints(payload), name


# --- capture_events itself: it fails where the events are not as declared ----------------------


def test_capture_events_fails_on_a_missing_an_extra_or_another_event(
    world: World, session: object
) -> None:
    def cancel() -> object:
        return cancel_lesson(Actor(world.school_admin, Channel.WEB), world.lesson)

    with pytest.raises(AssertionError, match="expected"):
        capture_events(cancel)  # nothing expected
    with pytest.raises(AssertionError, match="expected"):
        capture_events(lambda: None, "lesson.cancelled")  # nothing published
    with pytest.raises(AssertionError, match="expected"):
        capture_events(lambda: _grade(world), "grade.changed")
    # Cancelled already: cancelling again publishes nothing, which capture_events confirms.
    assert capture_events(cancel).events == []


@pytest.mark.parametrize(
    ("payload", "wrong"),
    [
        ({"kiosk_id": "7"}, "is no"),  # a string where the catalogue says int
        ({"kiosk_id": True}, "is no"),  # a bool is no int here
        ({"kiosk_id": None}, "is no"),
        ({}, "kiosk_id"),
        ({"kiosk_id": 7, "name": "sala 12"}, "name"),
    ],
)
def test_check_event_refuses_fields_or_types_the_catalogue_does_not_declare(
    payload: dict[str, Any], wrong: str
) -> None:
    with pytest.raises(AssertionError, match=wrong):
        check_event("kiosk.revoked", "kiosk", payload)
    with pytest.raises(AssertionError):
        check_event("kiosk.revoked", "pupil", {"kiosk_id": 7})  # another audience
    check_event("kiosk.revoked", "kiosk", {"kiosk_id": 7})


def test_optional_fields_take_none_or_their_type() -> None:
    removed = {"pupil_id": 1, "grade_id": 2, "subject": "matematyka"}
    check_event("grade.removed", "pupil", removed)
    base = {
        "pupil_id": 1, "lesson_id": 2, "date": dt.date(2026, 9, 1).isoformat(), "slot_number": 1,
        "subject": "matematyka", "code": "nb", "name": "nieobecny", "counts_as": "absent",
        "excused": False,
    }  # fmt: skip
    check_event("attendance.recorded", "pupil", base | {"previous_code": None})
    check_event("attendance.recorded", "pupil", base | {"previous_code": "ob"})
    with pytest.raises(AssertionError, match="previous_code"):
        check_event("attendance.recorded", "pupil", base | {"previous_code": 1})
