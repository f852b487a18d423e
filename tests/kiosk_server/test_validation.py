"""Bad input: malformed, oversized or mistyped payloads get a clear refusal, write nothing, and
the connection (and the server) keeps serving."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.kiosk_server.conftest import NS, KioskWorld, call, counts, login

GOOD_KEY = "2f0c6f3e-8a52-4a8e-9f6e-4c1c1b1f7a10"


@pytest.fixture
def kiosk(connect: Any, kworld: KioskWorld) -> Any:
    client = connect()
    client.token = login(client, kworld.teacher)["session"]
    return client


def _envelope(kworld: KioskWorld, token: str, **changes: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "key": GOOD_KEY,
        "session": token,
        "kind": "roll",
        "lesson_id": kworld.lesson.id,
        "payload": {"states": {str(kworld.pupil.id): "nb"}, "base": {str(kworld.pupil.id): None}},
    }
    for name, value in changes.items():
        if value is ...:
            envelope.pop(name)
        else:
            envelope[name] = value
    return envelope


ENVELOPES: list[tuple[str, dict[str, Any], str, str | None]] = [
    ("no key", {"key": ...}, "invalid", "key"),
    ("key not a uuid", {"key": "1234"}, "invalid", "key"),
    ("key a number", {"key": 1234}, "invalid", "key"),
    ("key too long", {"key": GOOD_KEY + "-" * 40}, "invalid", "key"),
    # The agent makes and checks keys as 8-4-4-4-12 hexadecimal digits; the server took any
    # spelling Python's uuid reads, so the two sides disagreed on what a key is.
    ("key in braces", {"key": "{" + GOOD_KEY + "}"}, "invalid", "key"),
    ("key without hyphens", {"key": GOOD_KEY.replace("-", "")}, "invalid", "key"),
    ("key as a urn", {"key": "uuid:" + GOOD_KEY}, "invalid", "key"),
    ("key with a newline", {"key": GOOD_KEY + "\n"}, "invalid", "key"),
    ("unknown kind", {"kind": "term_grade"}, "invalid", "kind"),
    ("kind not a string", {"kind": ["roll"]}, "invalid", "kind"),
    ("lesson id a string", {"lesson_id": "1"}, "invalid", "lesson_id"),
    ("lesson id a float", {"lesson_id": 1.0}, "invalid", "lesson_id"),
    ("lesson id a boolean", {"lesson_id": True}, "invalid", "lesson_id"),
    ("lesson id negative", {"lesson_id": -1}, "invalid", "lesson_id"),
    ("lesson id beyond integer", {"lesson_id": 2**40}, "invalid", "lesson_id"),
    ("session missing", {"session": ...}, "invalid", "session"),
    ("session not a string", {"session": {"id": 1}}, "invalid", "session"),
    ("extra field", {"teacher_id": 1}, "invalid", "teacher_id"),
    ("payload not an object", {"payload": "states"}, "invalid", "payload"),
    ("payload null", {"payload": None}, "invalid", "payload"),
]


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [case[1:] for case in ENVELOPES],
    ids=[case[0] for case in ENVELOPES],
)
def test_a_malformed_envelope_is_refused(
    kiosk: Any, kworld: KioskWorld, changes: dict[str, Any], error: str, field: str | None
) -> None:
    before = counts()
    ack = call(kiosk, "submit", _envelope(kworld, kiosk.token, **changes))
    assert ack["ok"] is False and ack["error"] == error
    assert ack["field"] == field and ack["message"] == f"Nieprawidłowe dane: pole „{field}”."
    assert counts() == before
    assert kiosk.is_connected(NS)


PAYLOADS: list[tuple[str, str, Any, str]] = [
    ("states missing", "roll", {}, "payload.states"),
    ("states a list", "roll", {"states": [["1", "nb"]]}, "payload.states"),
    ("pupil id not digits", "roll", {"states": {"abc": "nb"}}, "payload.states.abc"),
    ("pupil id zero", "roll", {"states": {"0": "nb"}}, "payload.states.0"),
    ("pupil id twice", "roll", {"states": {"1": "nb", "01": "ob"}}, "payload.states.01"),
    (
        "pupil id beyond integer",
        "roll",
        {"states": {"2147483648": "nb"}},
        "payload.states.2147483648",
    ),
    ("pupil id and a newline", "roll", {"states": {"7\n": "nb"}}, "payload.states.7\n"),
    (
        "the first bad pupil in the order sent",
        "roll",
        {"states": {"3": "nb", "x": "nb", "2": 5}, "base": {"3": None}},
        "payload.states.x",
    ),
    (
        "a bad code before a bad pupil",
        "roll",
        {"states": {"2": 5, "x": "nb"}, "base": {}},
        "payload.states.2",
    ),
    ("an unknown key before a bad field", "roll", {"states": 1, "nope": 2}, "payload.nope"),
    ("code a number", "roll", {"states": {"1": 2}}, "payload.states.1"),
    ("code too long", "roll", {"states": {"1": "absent"}}, "payload.states.1"),
    (
        "too many pupils",
        "roll",
        {"states": {str(n): "ob" for n in range(1, 202)}},
        "payload.states",
    ),
    ("topic too long", "roll", {"states": {}, "topic": "x" * 501}, "payload.topic"),
    # A roll names what the screen showed for every pupil it changes, and for its topic.
    ("state without its base", "roll", {"states": {"1": "nb"}}, "payload.base.1"),
    (
        "base of a pupil not changed",
        "roll",
        {"states": {"1": "nb"}, "base": {"1": None, "2": "ob"}},
        "payload.base.2",
    ),
    ("topic without its base", "roll", {"states": {}, "topic": "Ułamki"}, "payload.base_topic"),
    ("topic entry without its base", "topic", {"topic": "Ułamki"}, "payload.base_topic"),
    ("topic with NUL", "topic", {"topic": "Ułamki\x00"}, "payload.topic"),
    ("topic empty", "topic", {"topic": ""}, "payload.topic"),
    ("grade without pupil", "grade", {"value": "4"}, "payload.pupil_id"),
    ("grade value a number", "grade", {"pupil_id": 1, "value": 4}, "payload.value"),
    (
        "grade mass assignment",
        "grade",
        {"pupil_id": 1, "value": "4", "teacher_id": 2},
        "payload.teacher_id",
    ),
    ("grade kind smuggled", "grade", {"pupil_id": 1, "value": "4", "kind": "year"}, "payload.kind"),
    (
        "correction without version",
        "grade_correction",
        {"grade_id": 1, "value": "4"},
        "payload.base_version",
    ),
    (
        "version a string",
        "grade_removal",
        {"grade_id": 1, "base_version": "1"},
        "payload.base_version",
    ),
    (
        "remark kind unknown",
        "remark",
        {"pupil_id": 1, "remark_kind": "awful", "text": "x"},
        "payload.remark_kind",
    ),
    (
        "remark too long",
        "remark",
        {"pupil_id": 1, "remark_kind": "neutral", "text": "x" * 2001},
        "payload.text",
    ),
]


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [case[1:] for case in PAYLOADS],
    ids=[case[0] for case in PAYLOADS],
)
def test_a_malformed_payload_is_refused(
    kiosk: Any, kworld: KioskWorld, kind: str, payload: Any, field: str
) -> None:
    before = counts()
    envelope = _envelope(kworld, kiosk.token, kind=kind, payload=payload, key=str(uuid.uuid4()))
    ack = call(kiosk, "submit", envelope)
    assert ack["ok"] is False and ack["error"] == "invalid" and ack["field"] == field
    assert counts() == before


def test_an_oversized_submission_is_refused(kiosk: Any, kworld: KioskWorld) -> None:
    before = counts()
    big = _envelope(kworld, kiosk.token, payload={"states": {}, "topic": "x" * 40_000})
    ack = call(kiosk, "submit", big)
    assert ack["error"] == "too_large" and ack["limit"] == 32 * 1024
    assert ack["message"] == "Za dużo danych w jednym zgłoszeniu."
    assert counts() == before


@pytest.mark.parametrize(
    "args",
    [(), ("submit",), (None,), (42,), ([1, 2],), ({"a": 1}, {"b": 2})],
    ids=["nothing", "a string", "null", "a number", "a list", "two arguments"],
)
def test_an_event_with_the_wrong_shape_is_refused(
    kiosk: Any, kworld: KioskWorld, args: tuple
) -> None:
    before = counts()
    ack = call(kiosk, "submit", *args)
    assert ack["ok"] is False and ack["error"] == "invalid"
    assert counts() == before


@pytest.mark.parametrize(
    ("event", "data", "field"),
    [
        ("teacher_login", {"login": "anna_nowak"}, "password"),
        ("teacher_login", {"login": ["anna_nowak"], "password": "x"}, "login"),
        ("teacher_login", {"login": "a" * 81, "password": "x"}, "login"),
        ("teacher_login", {"login": "anna_nowak", "password": "x" * 129}, "password"),
        ("pin_unlock", {"teacher_id": "1", "pin": "1234"}, "teacher_id"),
        ("pin_unlock", {"teacher_id": 1, "pin": 1234}, "pin"),
        ("teacher_logout", {"session": "x", "end": "yes"}, "end"),
        ("roster", {"session": "x", "lesson_id": None}, "lesson_id"),
        ("room", {"now": "2026-01-01"}, "now"),
    ],
)
def test_other_events_validate_their_payload_too(
    kiosk: Any, kworld: KioskWorld, event: str, data: Any, field: str
) -> None:
    before = counts()
    ack = call(kiosk, event, data)
    assert ack["ok"] is False and ack["error"] == "invalid" and ack["field"] == field
    assert counts() == before


def test_after_all_that_the_connection_still_works(kiosk: Any, kworld: KioskWorld) -> None:
    bad: Any
    for bad in (None, [], "x", {"key": 1}, _envelope(kworld, kiosk.token, lesson_id=True)):
        assert call(kiosk, "submit", bad)["ok"] is False
    ack = call(kiosk, "submit", _envelope(kworld, kiosk.token))
    assert ack["ok"] is True and ack["status"] == "applied"
