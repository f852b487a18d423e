"""Every event type, published by its operation and checked by `capture_events` (Zulip's
test_events.py): one case per catalogue type, and a case missing for a new type fails."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable
from functools import partial
from typing import Any, Literal, NamedTuple, get_args, get_origin

import pytest
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.classification.operations import set_classification_grade
from ediary.council.models import BehaviourKind
from ediary.council.operations import set_behaviour
from ediary.db import db
from ediary.diary.models import Grade, GradeKind, Remark, RemarkKind
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
from ediary.homework.models import HomeworkKind
from ediary.homework.operations import announce
from ediary.journal.catalogue import EVENT_TYPES
from ediary.journal.operations import publish
from ediary.kiosks.operations import revoke_kiosk
from ediary.messages.models import Announcement, MessageThread
from ediary.messages.operations import mark_read, publish_announcement, start_thread
from ediary.schools.models import Term
from ediary.timetable.models import TeachingAssignment
from ediary.timetable.operations import cancel_lesson, substitute_lesson
from ediary.timetable.regenerate import apply_timetable
from tests.events import capture_events, check_event
from tests.factories import World


def _first_term(world: World) -> Term:
    query = select(Term).where(Term.year_id == world.year.id).order_by(Term.number)
    return db.session.scalars(query).first()  # type: ignore[return-value]


def _assignment(world: World) -> TeachingAssignment:
    query = select(TeachingAssignment).where(TeachingAssignment.teacher_id == world.teacher.id)
    return db.session.scalars(query).one()


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


class Case(NamedTuple):
    """A type's case: its operation, the audience id its event names, and its whole payload
    (from the operation's result); `events` of the type it publishes, the last one described."""

    action: Callable[[], Any]
    audience_id: int
    payload: Callable[[Any], dict[str, Any]]
    events: int = 1


def _attendance(w: World) -> Case:
    absent = {"pupil_id": w.pupil.id, "code": "nb", "name": "nieobecny", "counts_as": "absent",
              "excused": False, "previous_code": None}  # fmt: skip
    # The roster in name order: Lewandowski (recorded present by default), then Wiśniewska.
    return Case(
        lambda: submit_roll(_teacher(w), w.lesson, {w.pupil.id: "nb"}, base=None),
        w.pupil.id,
        lambda _: _lesson_fields(w) | absent,
        events=2,
    )


def _grade_changed(w: World) -> Case:
    grade = _grade(w)
    fix = partial(correct_grade, _teacher(w), grade, value="5", category=w.test_category)
    return Case(fix, w.pupil.id, lambda _: _grade_fields(w, grade, "5"))


def _grade_removed(w: World) -> Case:
    grade = _grade(w)
    payload = {"pupil_id": w.pupil.id, "grade_id": grade.id, "subject": "matematyka"}
    return Case(partial(remove_grade, _teacher(w), grade), w.pupil.id, lambda _: payload)


def _remark_fields(w: World, remark: Remark, kind: str, text: str) -> dict[str, Any]:
    return {"pupil_id": w.pupil.id, "remark_id": remark.id, "kind": kind, "text": text,
            "given_on": w.today.isoformat(), "teacher": "Anna Nowak"}  # fmt: skip


def _remark_changed(w: World) -> Case:
    remark = _remark(w)
    fix = partial(correct_remark, _teacher(w), remark, kind=RemarkKind.NEGATIVE, text="Źle.")
    return Case(fix, w.pupil.id, lambda _: _remark_fields(w, remark, "negative", "Źle."))


def _remark_removed(w: World) -> Case:
    remark = _remark(w)
    payload = {"pupil_id": w.pupil.id, "remark_id": remark.id}
    return Case(partial(remove_remark, _teacher(w), remark), w.pupil.id, lambda _: payload)


def _excuse_fields(w: World, request: ExcuseRequest, status: str) -> dict[str, Any]:
    day = w.today.isoformat()
    return {"pupil_id": w.pupil.id, "excuse_id": request.id, "status": status,
            "first_date": day, "last_date": day, "absences": 1}  # fmt: skip


def _excuse_decided(w: World) -> Case:
    request = _request(w)
    reject = partial(decide_excuses, Actor(w.tutor, Channel.WEB), [request], approve=False)
    return Case(reject, w.pupil.id, lambda _: _excuse_fields(w, request, "rejected"))


def _grade_proposed(w: World) -> Case:
    term = _first_term(w)
    give = partial(
        set_classification_grade, _teacher(w), _assignment(w), term, w.pupil,
        GradeKind.PROPOSED_TERM, "2", seen_grade_id=None, seen_version=None, today=w.today,
    )  # fmt: skip
    return Case(
        give,
        w.pupil.id,
        lambda grade: {
            "pupil_id": w.pupil.id,
            "grade_id": grade.id,
            "term_id": term.id,
            "subject": "matematyka",
            "kind": "proposed_term",
            "value": "2",
            "descriptive": None,
            "given_on": w.today.isoformat(),
            "teacher": "Anna Nowak",
            "late": False,
        },
    )


def _behaviour_graded(w: World) -> Case:
    term = w.year.terms[0]
    propose = partial(
        set_behaviour, Actor(w.tutor, Channel.WEB), w.pupil, term, kind=BehaviourKind.PROPOSED,
        value="bardzo_dobre", base_version=None, today=w.today,
    )  # fmt: skip
    payload = {"pupil_id": w.pupil.id, "term_id": term.id, "term": 1, "kind": "proposed",
               "value": "bardzo_dobre", "name": "bardzo dobre"}  # fmt: skip
    return Case(propose, w.pupil.id, lambda _: payload)


def _thread(w: World) -> MessageThread:
    return start_thread(
        Actor(w.parent, Channel.WEB), recipient_id=w.tutor.id, school_id=w.school.id,
        subject="Pytanie", body="Dzień dobry",
    )  # fmt: skip


def _message_received(w: World) -> Case:
    def fields(thread: MessageThread) -> dict[str, Any]:
        return {"thread_id": thread.id, "message_id": thread.messages[0].id, "subject": "Pytanie",
                "sender": w.parent.full_name, "unread": 1}  # fmt: skip

    return Case(partial(_thread, w), w.tutor.id, fields)


def _message_read(w: World) -> Case:
    thread = _thread(w)
    place = next(p for p in thread.participants if p.user_id == w.tutor.id)

    def fields(_: int) -> dict[str, Any]:
        receipt = thread.messages[0].receipts[0]
        return {"thread_id": thread.id, "message_id": thread.messages[0].id,
                "reader": w.tutor.full_name, "read_at": receipt.read_at.isoformat()}  # fmt: skip

    return Case(partial(mark_read, Actor(w.tutor, Channel.WEB), place), w.parent.id, fields)


def _announcement(w: World) -> Case:
    def publish_it() -> Announcement:
        return publish_announcement(
            Actor(w.tutor, Channel.WEB), school_id=w.school.id, class_id=w.class_a.id,
            title="Wycieczka", body="W piątek.", expires_on=w.today, today=w.today,
        )  # fmt: skip

    def fields(found: Announcement) -> dict[str, Any]:
        return {"class_id": w.class_a.id, "announcement_id": found.id, "title": "Wycieczka",
                "expires_on": w.today.isoformat(), "author": w.tutor.full_name}  # fmt: skip

    return Case(publish_it, w.class_a.id, fields)


CASES: dict[str, Callable[[World], Case]] = {
    "attendance.recorded": _attendance,
    "grade.added": lambda w: Case(
        partial(_grade, w), w.pupil.id, lambda grade: _grade_fields(w, grade, "4")
    ),
    "grade.changed": _grade_changed,
    "grade.removed": _grade_removed,
    "grade.proposed": _grade_proposed,
    "remark.added": lambda w: Case(
        partial(_remark, w),
        w.pupil.id,
        lambda remark: _remark_fields(w, remark, "positive", "Pomaga kolegom."),
    ),
    "remark.changed": _remark_changed,
    "remark.removed": _remark_removed,
    "lesson.topic": lambda w: Case(
        partial(set_topic, _teacher(w), w.lesson, " Ułamki "),
        w.class_a.id,
        lambda _: _lesson_fields(w) | {"class_id": w.class_a.id, "topic": "Ułamki"},
    ),
    "lesson.cancelled": lambda w: Case(
        partial(cancel_lesson, Actor(w.school_admin, Channel.WEB), w.lesson),
        w.class_a.id,
        lambda _: _lesson_fields(w) | {"class_id": w.class_a.id},
    ),
    "lesson.substituted": lambda w: Case(
        partial(substitute_lesson, Actor(w.school_admin, Channel.WEB), w.lesson, w.other_teacher),
        w.class_a.id,
        lambda _: (
            _lesson_fields(w)
            | {"class_id": w.class_a.id, "teacher": w.other_teacher.full_name}
            | {"merged": False, "merged_with": ""}
        ),
    ),
    "timetable.changed": lambda w: Case(
        partial(apply_timetable, Actor(w.school_admin, Channel.WEB), w.school, w.today),
        w.class_a.id,
        lambda counts: {"class_id": w.class_a.id, "from_date": w.today.isoformat(), **counts},
    ),
    "homework.changed": lambda w: Case(
        partial(
            announce,
            _teacher(w),
            w.lesson,
            kind=HomeworkKind.HOMEWORK,
            description="Zad. 3",
            due_date=w.today + dt.timedelta(days=2),
            today=w.today,
        ),
        w.class_a.id,
        lambda homework: (
            _lesson_fields(w)
            | {
                "class_id": w.class_a.id,
                "group_id": None,
                "homework_id": homework.id,
                "kind": "homework",
                "change": "added",
                "due_date": (w.today + dt.timedelta(days=2)).isoformat(),
            }
        ),
    ),
    "kiosk.revoked": lambda w: Case(
        partial(revoke_kiosk, Actor(w.school_admin, Channel.WEB), w.kiosk),
        w.kiosk.id,
        lambda _: {"kiosk_id": w.kiosk.id},
    ),
    "excuse.requested": lambda w: Case(
        partial(_request, w), w.pupil.id, lambda request: _excuse_fields(w, request, "pending")
    ),
    "excuse.decided": _excuse_decided,
    "behaviour.graded": _behaviour_graded,
    "message.received": _message_received,
    "message.read": _message_read,
    "announcement.published": _announcement,
}


def test_every_catalogue_type_has_its_case() -> None:
    assert sorted(CASES) == sorted(EVENT_TYPES)


@pytest.mark.parametrize("type_name", sorted(CASES))
def test_the_operation_publishes_its_event_to_its_audience(
    type_name: str, world: World, session: object
) -> None:
    case = CASES[type_name](world)
    captured = capture_events(case.action, *[type_name] * case.events)
    event = captured.events[-1]
    assert (event.school_id, event.audience_id) == (world.school.id, case.audience_id)
    assert event.payload == case.payload(captured.result)


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
