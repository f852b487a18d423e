"""The kiosk side of the `/kiosk` wire protocol (docs/protocol.md, section "/kiosk").

The protocol is written down once, as JSON Schema in this package's `protocol.schema.json`; the
server validates what it receives against the same file. Event names, payload shapes and refusal
codes are read here only, so that the rest of the agent works with its own plain shapes (a
lesson, a roster) and does not depend on the server's spelling.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators

from kiosk.credential import Credential
from kiosk.outbox import Entry, Outcome

SCHEMA: dict[str, Any] = json.loads(
    resources.files("kiosk").joinpath("protocol.schema.json").read_text(encoding="utf-8")
)
DEFS: dict[str, Any] = SCHEMA["$defs"]

ENROLL_PATH = "/api/kiosk/enroll"

# Events the agent calls (each answers with an acknowledgement `{"ok": ...}`).
ROOM = "room"
LOGIN = "teacher_login"
PIN_UNLOCK = "pin_unlock"
LOGOUT = "teacher_logout"
LESSONS = "lessons"
HEARTBEAT = "heartbeat"
LESSON = "roster"
SUBMIT = "submit"
# Events the server pushes.
REVOKED = "revoked"
DELIVERED = "delivered"
# A journal event addressed to this device (e.g. {"type": "kiosk.revoked"} when the revocation
# was committed by another process, which cannot cut this socket itself).
JOURNAL = "event"
JOURNAL_REVOKED = "kiosk.revoked"


def _codes(group: str) -> frozenset[str]:
    """The refusal codes of a group of the schema: the groups are what the agent does."""
    return frozenset(DEFS[f"refusal.{group}"]["enum"])


# The device itself is refused: stop, forget the credential, keep the entries.
DEVICE_REFUSALS = _codes("device")
# The day's PIN no longer opens anything: a full login is needed.
PIN_GONE = _codes("session")
# The teacher's session does not vouch for an entry (any more): parked, and queued again under
# the teacher's next session on this kiosk.
SESSION_ENDED = "session_ended"
# The server failed on the entry (a bug): the same answer at every retry, so it is parked with
# a reason the teacher sees, and queued again at the teacher's next login (a fix may be out).
(SERVER_ERROR,) = _codes("server_bug")
# The lesson had not begun by the server's clock (this computer's clock was ahead): by the
# teacher's next login it has.
(NOT_STARTED,) = _codes("too_early")
REQUEUED_AT_LOGIN = (SESSION_ENDED, SERVER_ERROR, NOT_STARTED)
# Worth another try later, with the same key.
TRANSIENT = _codes("retry")


def limit(name: str, keyword: str = "maxLength") -> int:
    """A limit of the protocol, as the schema states it (e.g. `limit("topic")`)."""
    return int(DEFS[name][keyword])


def valid(name: str, value: Any) -> bool:
    """Whether `value` is a valid `name` of the schema (e.g. "kind.roll"): the agent keeps no
    entry that the server would refuse as malformed, since it would be parked for good."""
    return bool(_validator(name).is_valid(value))


_Validator = validators.extend(
    Draft202012Validator,
    # As the schema says: 1.0 and `true` (Python's int) are no integers.
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


@functools.cache
def _validator(name: str) -> Any:
    return _Validator({**SCHEMA, "$ref": f"#/$defs/{name}"})


def auth(credential: Credential) -> dict[str, Any]:
    return {"kiosk_id": credential.kiosk_id, "secret": credential.secret}


def refusal_code(data: Any) -> str | None:
    """The stable code of a refusal: in an acknowledgement, a push, or a refused connect (where
    python-socketio wraps the server's data as {"message": ..., "data": {...}})."""
    if isinstance(data, dict) and data.get("ok") is not True:
        if isinstance(data.get("data"), dict):
            return refusal_code(data["data"])
        code = data.get("error") or data.get("code")
        return str(code) if code else None
    return None


def is_revocation(data: Any) -> bool:
    return refusal_code(data) in DEVICE_REFUSALS


def refusal(ack: Any) -> tuple[str, str] | None:
    """(code, message) if the acknowledgement is a refusal, else None."""
    if not isinstance(ack, dict):
        return "bad_ack", repr(ack)[:200]
    if ack.get("ok") is not True:
        return str(ack.get("error") or "refused"), str(ack.get("message") or "")
    return None


def name_of(value: Any) -> str:
    """The server sends rooms and schools as objects; older shapes as plain names."""
    if isinstance(value, dict):
        return str(value.get("name") or "")
    return str(value or "")


def teacher_name(teacher: dict[str, Any]) -> str:
    return f"{teacher.get('first_name', '')} {teacher.get('last_name', '')}".strip()


def roll_payload(
    states: dict[int, str],
    base: dict[int, str | None],
    topic: str | None,
    base_topic: str | None,
) -> dict[str, Any]:
    """A roll: the pupils the teacher changed, each with what the screen showed before (`base`;
    null: nothing recorded), and the topic with the one it showed, if the teacher changed it."""
    payload: dict[str, Any] = {
        "states": {str(pupil_id): code for pupil_id, code in sorted(states.items())},
        "base": {str(pupil_id): base[pupil_id] for pupil_id in sorted(states)},
    }
    if topic is not None:
        payload["topic"] = topic
        payload["base_topic"] = base_topic
    return payload


def grade_payload(
    pupil_id: int,
    value: str,
    category_id: int | None,
    description: str,
    *,
    descriptive: str | None = None,
    improves_id: int | None = None,
) -> dict[str, Any]:
    """A new grade: a value or (grades 1-3) a descriptive grade; with `improves_id`, a poprawa
    of that grade (the statute's policy decides what counts)."""
    payload: dict[str, Any] = {"pupil_id": pupil_id}
    if descriptive is not None:
        payload["descriptive"] = descriptive
    else:
        payload["value"] = value
    payload["category_id"] = category_id
    payload["description"] = description or None
    if improves_id is not None:
        payload["improves_id"] = improves_id
    return payload


def grade_correction_payload(
    grade_id: int,
    base_version: int,
    value: str | None,
    descriptive: str | None,
    category_id: int | None,
    description: str,
) -> dict[str, Any]:
    """The whole new grade, with the version the screen showed (a change meanwhile: refused)."""
    payload: dict[str, Any] = {"grade_id": grade_id, "base_version": base_version}
    if descriptive is not None:
        payload["descriptive"] = descriptive
    else:
        payload["value"] = value
    payload["category_id"] = category_id
    payload["description"] = description or None
    return payload


def grade_removal_payload(grade_id: int, base_version: int) -> dict[str, Any]:
    return {"grade_id": grade_id, "base_version": base_version}


def remark_payload(pupil_id: int, kind: str, text: str) -> dict[str, Any]:
    return {"pupil_id": pupil_id, "remark_kind": kind, "text": text}


def submission(entry: Entry, session: str) -> dict[str, Any]:
    return {
        "key": entry.key,
        "session": session,
        "kind": entry.kind,
        "lesson_id": entry.lesson_id,
        "payload": entry.payload,
    }


def outcome(ack: Any) -> Outcome:
    refused = refusal(ack)
    if refused is None:
        if ack.get("status") in ("applied", "duplicate"):
            return Outcome("synced", result=ack, delivered=ack.get("delivered") is True)
        return Outcome("retry", code=f"status {ack.get('status')!r}")
    code, message = refused
    if code in DEVICE_REFUSALS:
        return Outcome("hold", code=code, message=message)
    if code in TRANSIENT or (isinstance(ack, dict) and ack.get("retry")):
        return Outcome("retry", code=code, message=message)
    return Outcome("parked", code=code, message=message)
