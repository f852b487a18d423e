"""One protocol: kiosk/protocol.schema.json, docs/protocol.md's /kiosk section, the server's
handlers, kinds and refusal codes, and the agent's handling of them say the same things."""

from __future__ import annotations

import ast
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ediary.diary.models import RemarkKind
from ediary.journal.catalogue import EVENT_TYPES
from ediary.kiosks import schema, submissions
from ediary.kiosks.schema import DEFS, SCHEMA
from ediary.kiosks.sockets import KioskNamespace
from kiosk import protocol

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8").split("\n## /kiosk", 1)[1]

# Modules whose refusals can reach a kiosk: the namespace and its sections, what they call.
SENDERS = [
    "ediary/kiosks/*.py",
    "ediary/diary/operations/*.py",
    "ediary/diary/values.py",
    "ediary/people/throttle.py",
    "ediary/realtime/namespace.py",
    "ediary/errors.py",
    "ediary/homework/operations.py",  # issue 18: the kiosk's `homework` entry
    "ediary/homework/kiosk.py",
    "ediary/office/rollover/closed.py",  # every flush of a diary row: a closed school year
]
# Codes those modules send, but never to a kiosk, each with the reason.
NOT_TO_A_KIOSK = {
    "category_final": "term and year grades are given on the web; a kiosk records ongoing ones",
    "grade_invalid_final": "the same",
    "no_teacher": "a kiosk's entry always comes from a teacher's session",
    "subject_unknown": "a kiosk's grade is in its lesson's subject",
    "code_minutes": "an enrollment code is issued on the web",
    "not_confirmed": "the director's fleet page (ediary/kiosks/views.py): revoking needs a tick",
    "room_unknown": "the director's fleet page: moving a kiosk to a room",
    "room_taken": "the director's fleet page: moving a kiosk to a room",
    "stale_room": "the director's fleet page: a move on a page that is out of date",
    "homework_withdrawn": "a kiosk announces; corrections and withdrawals are on the web",
}


def _section(title: str) -> str:
    return DOC.split(f"\n### {title}\n", 1)[1].split("\n### ", 1)[0]


def _first_column(table: str) -> list[str]:
    return re.findall(r"^\| `([a-z_.]+)` \|", table, flags=re.MULTILINE)


def _group(name: str) -> set[str]:
    return set(DEFS[f"refusal.{name}"]["enum"])


GROUPS = ["device", "session", "retry", "server_bug", "too_early", "other"]
ACK_CODES = set().union(*(_group(name) for name in GROUPS))
CONNECT_CODES = set(DEFS["connect.refusal"]["properties"]["error"]["enum"])
ENROLL_CODES = set(DEFS["enroll.refusal"]["properties"]["error"]["enum"])


def _sent_codes() -> set[str]:
    """Every code the modules above can put in a refusal, read from their source."""
    codes: set[str] = set()
    for pattern in SENDERS:
        for path in ROOT.glob(pattern):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                codes |= _codes_of(node)
    return codes


def _codes_of(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0] if node.args else None
        literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
        refusals = {"Refusal", "Conflict", "DeviceRefused", "LimitWarning", "_refused", "__init__"}
        if name in refusals and literal:
            assert isinstance(first, ast.Constant) and isinstance(first.value, str)
            return {first.value}
        if name == "SessionEnded":
            return {"session_ended"}
    if isinstance(node, ast.Dict):
        return {
            value.value
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and key.value == "error"
            if isinstance(value, ast.Constant) and isinstance(value.value, str)
        }
    return set()


def test_the_schema_is_json_schema_2020_12_and_ships_with_the_kiosk() -> None:
    shipped = resources.files("kiosk").joinpath("protocol.schema.json").read_text("utf-8")
    assert json.loads(shipped) == SCHEMA
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)
    assert "kiosk/protocol.schema.json" in DOC


def test_events_are_the_same_in_the_docs_the_schema_and_the_namespace() -> None:
    documented = _first_column(_section("Events").split("Pushed by the server")[0])
    in_schema = [name.removesuffix(".request") for name in DEFS if name.endswith(".request")]
    handled = {name[3:] for name in vars(KioskNamespace) if name.startswith("on_")}
    assert documented == [name for name in in_schema if name != "enroll"]
    assert handled - {"connect", "disconnect"} == set(documented)
    assert all(f"{name}.ack" in DEFS for name in in_schema if name != "enroll")


def test_kinds_are_the_same_in_the_docs_the_schema_and_the_server() -> None:
    documented = _first_column(_section("Submissions"))
    in_schema = DEFS["submission"]["properties"]["kind"]["enum"]
    assert documented == in_schema == list(submissions.KINDS)
    for kind in in_schema:
        assert f"kind.{kind}" in DEFS and f"kind.{kind}.result" in DEFS


def test_refusal_codes_are_the_same_in_the_docs_the_schema_and_the_server() -> None:
    documented = _section("Refusal codes")
    for name in GROUPS:
        row = re.search(rf"^\| {name} \| (.*?) \|", documented, flags=re.MULTILINE)
        assert row is not None, name
        assert set(re.findall(r"`([a-z_]+)`", row.group(1))) == _group(name), name
    sent = _sent_codes()
    assert not set(NOT_TO_A_KIOSK) - sent  # an exception for a code nobody sends is stale
    assert sent - set(NOT_TO_A_KIOSK) == ACK_CODES | CONNECT_CODES | ENROLL_CODES
    assert set(_first_column(_section("Connecting"))) == CONNECT_CODES


def test_the_agent_knows_every_code_the_server_sends_and_no_other() -> None:
    handled = {
        *protocol.DEVICE_REFUSALS,
        *protocol.PIN_GONE,
        *protocol.TRANSIENT,
        *protocol.REQUEUED_AT_LOGIN,
        protocol.SESSION_ENDED,
        protocol.SERVER_ERROR,
        protocol.NOT_STARTED,
    }
    assert handled <= ACK_CODES | CONNECT_CODES
    # Each code is in one group, and the agent reads the groups from the schema itself.
    assert sum(len(_group(name)) for name in GROUPS) == len(ACK_CODES)
    assert _group("device") == protocol.DEVICE_REFUSALS
    assert _group("session") == protocol.PIN_GONE
    assert _group("retry") == protocol.TRANSIENT


def test_what_the_server_checks_is_what_the_schema_says() -> None:
    from ediary.diary import values
    from ediary.diary.operations import common, grades
    from ediary.homework import models as homework

    assert [kind.value for kind in RemarkKind] == DEFS["remark_kind"]["enum"]
    assert DEFS["topic"]["maxLength"] == common.MAX_TOPIC
    assert DEFS["remark_text"]["maxLength"] == common.MAX_REMARK
    assert DEFS["description"]["maxLength"] == grades.MAX_DESCRIPTION
    assert DEFS["homework_text"]["maxLength"] == homework.MAX_DESCRIPTION
    assert [kind.value for kind in homework.HomeworkKind] == DEFS["homework_kind"]["enum"]
    assert DEFS["descriptive"]["maxLength"] == values.MAX_DESCRIPTIVE
    assert frozenset(DEFS["ongoing_grade"]["enum"]) == values.ONGOING


def test_pushed_journal_messages_have_the_catalogues_fields() -> None:
    for message in DEFS["push.event"]["oneOf"]:
        name = message["properties"]["type"]["const"]
        fields = set(message["required"]) - {"id", "type", "at"}
        assert fields == set(EVENT_TYPES[name].fields), name


def test_both_rosters_of_a_roll_accept_the_same_pupil_ids() -> None:
    roll = DEFS["kind.roll"]["properties"]
    assert roll["states"]["patternProperties"].keys() == roll["base"]["patternProperties"].keys()


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("1", True),
        ("007", True),
        ("2147483647", True),
        ("02147483647", True),
        ("999999999", True),
        ("1999999999", True),
        ("2147483648", False),
        ("2200000000", False),
        ("9999999999", False),
        ("0", False),
        ("", False),
        ("-1", False),
        ("1.0", False),
        ("²", False),
    ],
)
def test_a_pupil_id_key_is_1_to_2_31_minus_1(key: str, valid: bool) -> None:
    (pattern,) = DEFS["kind.roll"]["properties"]["states"]["patternProperties"]
    assert (re.search(pattern, key) is not None) is valid


# --- the compiled check (`schema._surely_valid`): it may only ever say "valid" where the full
# check does, and it must say so for the entries a kiosk sends, or it saves nothing.

KEY = "2f0c6f3e-8a52-4a8e-9f6e-4c1c1b1f7a10"
VALID_PAYLOADS: dict[str, dict[str, Any]] = {
    "roll": {
        "states": {"7": "nb", "0012": "ob"},
        "base": {"7": None, "0012": "sp"},
        "topic": "Ułamki zwykłe",
        "base_topic": None,
    },
    "topic": {"topic": "Ułamki „dziesiętne”", "base_topic": "Ułamki"},
    "grade": {"pupil_id": 7, "value": "4+", "category_id": 2, "description": "Kartkówka"},
    "grade_correction": {"grade_id": 3, "base_version": 1, "value": "5", "category_id": None},
    "grade_removal": {"grade_id": 3, "base_version": 2},
    "remark": {"pupil_id": 7, "remark_kind": "positive", "text": 'Pomaga "innym"\nw ławce.'},
    "remark_correction": {"remark_id": 4, "base_version": 1, "remark_kind": "neutral", "text": "x"},
    "remark_removal": {"remark_id": 4, "base_version": 1},
    "homework": {"homework_kind": "test", "date": "2026-11-20", "description": "Ułamki"},
}


def _entry(kind: str, payload: Any, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """An envelope as a kiosk sends it, with `changes` (`...`: the field left out)."""
    entry = {"key": KEY, "session": "a.b", "kind": kind, "lesson_id": 5, "payload": payload}
    entry |= changes or {}
    return {name: value for name, value in entry.items() if value is not ...}


def _full_check(name: str, value: Any) -> bool:
    return not list(schema._validator(name).iter_errors(value))


def _cases() -> list[tuple[str, Any]]:
    """(definition, value): the refusals of tests/kiosk_server/test_validation.py, the valid
    entries above, and values where the two validators could read JSON differently."""
    from tests.kiosk_server.test_validation import ENVELOPES, PAYLOADS

    cases: list[tuple[str, Any]] = []
    for kind, payload in VALID_PAYLOADS.items():
        cases += [("submission", _entry(kind, payload)), (f"kind.{kind}", payload)]
    for _name, changes, _error, _field in ENVELOPES:
        cases.append(("submission", _entry("roll", VALID_PAYLOADS["roll"], changes)))
    for _name, kind, payload, _field in PAYLOADS:
        cases += [("submission", _entry(kind, payload)), (f"kind.{kind}", payload)]
    remark = VALID_PAYLOADS["remark"]
    odd: list[dict[Any, Any]] = [
        {**remark, "pupil_id": 7.0},  # 1.0 is an integer to JSON Schema, not to the protocol
        {**remark, "pupil_id": 7.5},
        {**remark, "pupil_id": float("nan")},
        {**remark, "pupil_id": 2**31},
        {**remark, "pupil_id": 2**64},
        {**remark, "pupil_id": -(2**70)},
        {**remark, "pupil_id": True},
        {**remark, "remark_kind": type("Text", (str,), {})("positive")},
        {**remark, "text": ("x",)},
        {**remark, 7: "x"},
        {"states": {"7\n": "nb"}, "base": {"7\n": None}},
        {"states": {"7": "nb"}, "base": {"7": 0.0}},
        {"states": {"7": "n\x00"}, "base": {"7": None}},
    ]
    for payload in odd:
        kind = "roll" if "states" in payload else "remark"
        cases += [("submission", _entry(kind, payload)), (f"kind.{kind}", payload)]
    cases.append(("submission", _entry("remark", remark, {"lesson_id": 5.0})))
    return cases


def test_the_compiled_check_says_valid_only_where_the_full_check_does() -> None:
    said_valid = 0
    for name, value in _cases():
        if schema._surely_valid(name, value):
            said_valid += 1
            assert _full_check(name, value), (name, value)
    assert said_valid >= 2 * len(VALID_PAYLOADS)


def test_the_entries_a_kiosk_sends_need_only_the_compiled_check() -> None:
    for kind, payload in VALID_PAYLOADS.items():
        assert _full_check("submission", _entry(kind, payload)), kind
        assert schema._surely_valid("submission", _entry(kind, payload)), kind
        assert schema._surely_valid(f"kind.{kind}", payload), kind
    pupils = [str(n) for n in range(1, 41)]
    roll = {"states": dict.fromkeys(pupils, "nb"), "base": dict.fromkeys(pupils)}
    assert schema._surely_valid("kind.roll", roll)


def test_a_float_for_an_id_is_still_refused_naming_its_field() -> None:
    entry = _entry("remark", VALID_PAYLOADS["remark"], {"lesson_id": 5.0})
    with pytest.raises(schema.Invalid) as refused:
        schema.validate("submission", entry)
    assert refused.value.as_dict()["field"] == "lesson_id"
    payload = {**VALID_PAYLOADS["remark"], "pupil_id": 7.0}
    with pytest.raises(schema.Invalid) as refused:
        schema.validate("kind.remark", payload, field="payload")
    assert refused.value.as_dict()["field"] == "payload.pupil_id"
