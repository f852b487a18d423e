"""What a kiosk submits: the kinds, their payloads, and the one operation that applies them.

Every submission carries a client-made idempotency key. `apply_submission` writes the key (with a
digest of the content and the result) in the same transaction as the effect, so:
- a repeated key finds the stored row and writes nothing ("duplicate");
- a crash between the commit and the acknowledgement makes the retry a duplicate, never a
  second entry;
- two identical submissions racing on two sockets collide on the key's primary key: one commits,
  the other rolls back and answers from the stored row.
The key row is inserted first, so a racing twin waits on it (PostgreSQL) before doing any work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.diary.models import RemarkKind
from ediary.diary.operations import (
    MAX_REMARK,
    MAX_TOPIC,
    add_remark,
    change_topic,
    correct_grade,
    correct_remark,
    record_grade,
    remove_grade,
    remove_remark,
    require_started,
    submit_roll,
)
from ediary.journal.models import JournalEvent
from ediary.kiosks import schema as s
from ediary.kiosks.access import (
    load_category,
    load_improved_grade,
    load_own_grade,
    load_own_remark,
    load_pupil_in_lesson,
)
from ediary.kiosks.models import Kiosk, ProcessedSubmission
from ediary.timetable.models import Lesson

MAX_ROSTER = 200
_JOURNAL_IDS = "ediary.kiosks.journal_ids"

Apply = Callable[[Actor, Lesson, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    name: str
    spec: s.Spec
    apply: Apply


def digest_of(kind: str, lesson_id: int, payload: dict[str, Any]) -> str:
    """What "the same content" means: kind, lesson and payload; not the teacher session, which
    may change when an entry waits in the outbox across a re-login."""
    content = s.canonical_json({"kind": kind, "lesson_id": lesson_id, "payload": payload})
    return hashlib.sha256(content.encode()).hexdigest()


# --- payloads ---------------------------------------------------------------------------------

_ATTENDANCE_CODE = s.text(4)
_GRADE_VALUE = s.text(4)
_DESCRIPTIVE = s.text(2000)
_DESCRIPTION = s.text(200, min_length=0)
_REMARK_KIND = s.choice(*(kind.value for kind in RemarkKind))
_REMARK_TEXT = s.text(MAX_REMARK)
_TOPIC = s.text(MAX_TOPIC)
_VERSION = s.integer()


def _by_pupil_id(value_spec: s.Spec) -> s.Spec:
    """`{"<pupil id>": value}`: JSON object keys are strings; "07" and "7" are one pupil."""

    def check(value: object, path: str) -> dict[str, object]:
        if not isinstance(value, dict) or len(value) > MAX_ROSTER:
            raise s.Invalid(path)
        cleaned: dict[str, object] = {}
        for key, item in value.items():
            pupil_id = int(key) if isinstance(key, str) and key.isascii() and key.isdigit() else 0
            if not 1 <= pupil_id <= s.MAX_ID or str(pupil_id) in cleaned:
                raise s.Invalid(f"{path}.{str(key)[:12]}")
            cleaned[str(pupil_id)] = value_spec(item, f"{path}.{pupil_id}")
        return cleaned

    return check


_ROLL_FIELDS = s.obj(
    {"states": _by_pupil_id(_ATTENDANCE_CODE)},
    {
        "topic": _TOPIC,
        # What the kiosk showed before the teacher's change (null: nothing recorded), for every
        # pupil in `states`: the change applies only where the server still has it.
        "base": _by_pupil_id(s.nullable(_ATTENDANCE_CODE)),
        "base_topic": s.nullable(s.text(MAX_TOPIC)),
    },
)


def _roll_spec(value: object, path: str) -> dict[str, Any]:
    """A roll names exactly the changed pupils, each with its base; a topic with its base."""
    cleaned: dict[str, Any] = _ROLL_FIELDS(value, path)
    base = cleaned.setdefault("base", {})
    unmatched = sorted(set(cleaned["states"]) ^ set(base), key=int)
    if unmatched:
        raise s.Invalid(f"{path}.base.{unmatched[0]}")
    if "topic" in cleaned and "base_topic" not in cleaned:
        raise s.Invalid(f"{path}.base_topic")
    return cleaned


_TOPIC_SPEC = s.obj({"topic": _TOPIC, "base_topic": s.nullable(s.text(MAX_TOPIC))})


_GRADE_FIELDS = {
    "value": _GRADE_VALUE,
    "descriptive": _DESCRIPTIVE,
    "category_id": s.nullable(s.integer()),
    "description": s.nullable(_DESCRIPTION),
}


# --- effects ----------------------------------------------------------------------------------


def _roll(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    """Compare-and-set per pupil (diary/operations/roll.py): a change applies where the server
    still has the kiosk's base; anything else is reported in `conflicts`, never overwritten."""
    return submit_roll(
        actor,
        lesson,
        {int(pupil_id): code for pupil_id, code in payload["states"].items()},
        base={int(pupil_id): code for pupil_id, code in payload["base"].items()},
        topic=payload.get("topic"),
        base_topic=payload.get("base_topic"),
    )


def _topic(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    conflict = change_topic(actor, lesson, payload["topic"], base_topic=payload["base_topic"])
    conflicts = [conflict] if conflict is not None else []
    return {"lesson_id": lesson.id, "topic": lesson.topic, "conflicts": conflicts}


def _grade(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    pupil = load_pupil_in_lesson(lesson, payload["pupil_id"])
    category_id = payload.get("category_id")
    improves_id = payload.get("improves_id")
    grade = record_grade(
        actor,
        pupil=pupil,
        subject=lesson.subject,
        value=payload.get("value"),
        descriptive=payload.get("descriptive"),
        category=load_category(lesson, category_id) if category_id is not None else None,
        description=payload.get("description"),
        given_on=lesson.date,
        lesson=lesson,
        improves=load_improved_grade(lesson, pupil, improves_id) if improves_id else None,
    )
    return {"grade_id": grade.id, "pupil_id": pupil.id, "version": grade.version}


def _grade_correction(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    grade = load_own_grade(actor_user(actor), lesson, payload["grade_id"])
    category_id = payload.get("category_id")
    correct_grade(
        actor,
        grade,
        value=payload.get("value"),
        descriptive=payload.get("descriptive"),
        category=load_category(lesson, category_id) if category_id is not None else None,
        description=payload.get("description"),
        base_version=payload["base_version"],
    )
    return {"grade_id": grade.id, "pupil_id": grade.pupil_id, "version": grade.version}


def _grade_removal(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    grade = load_own_grade(actor_user(actor), lesson, payload["grade_id"])
    remove_grade(actor, grade, base_version=payload["base_version"])
    return {"grade_id": grade.id, "pupil_id": grade.pupil_id, "version": grade.version}


def _remark(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    pupil = load_pupil_in_lesson(lesson, payload["pupil_id"])
    remark = add_remark(
        actor,
        pupil=pupil,
        kind=RemarkKind(payload["remark_kind"]),
        text=payload["text"],
        given_on=lesson.date,
        lesson=lesson,
    )
    return {"remark_id": remark.id, "pupil_id": pupil.id, "version": remark.version}


def _remark_correction(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    remark = load_own_remark(actor_user(actor), lesson, payload["remark_id"])
    correct_remark(
        actor,
        remark,
        kind=RemarkKind(payload["remark_kind"]),
        text=payload["text"],
        base_version=payload["base_version"],
    )
    return {"remark_id": remark.id, "pupil_id": remark.pupil_id, "version": remark.version}


def _remark_removal(actor: Actor, lesson: Lesson, payload: dict[str, Any]) -> dict[str, Any]:
    remark = load_own_remark(actor_user(actor), lesson, payload["remark_id"])
    remove_remark(actor, remark, base_version=payload["base_version"])
    return {"remark_id": remark.id, "pupil_id": remark.pupil_id, "version": remark.version}


def actor_user(actor: Actor) -> Any:
    assert actor.user is not None  # kiosk submissions always come from a logged-in teacher
    return actor.user


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("roll", _roll_spec, _roll),
        Kind("topic", _TOPIC_SPEC, _topic),
        Kind(
            "grade",
            s.obj(
                {"pupil_id": s.integer()}, {**_GRADE_FIELDS, "improves_id": s.nullable(s.integer())}
            ),
            _grade,
        ),
        Kind(
            "grade_correction",
            s.obj({"grade_id": s.integer(), "base_version": _VERSION}, _GRADE_FIELDS),
            _grade_correction,
        ),
        Kind(
            "grade_removal",
            s.obj({"grade_id": s.integer(), "base_version": _VERSION}),
            _grade_removal,
        ),
        Kind(
            "remark",
            s.obj({"pupil_id": s.integer(), "remark_kind": _REMARK_KIND, "text": _REMARK_TEXT}),
            _remark,
        ),
        Kind(
            "remark_correction",
            s.obj(
                {
                    "remark_id": s.integer(),
                    "base_version": _VERSION,
                    "remark_kind": _REMARK_KIND,
                    "text": _REMARK_TEXT,
                }
            ),
            _remark_correction,
        ),
        Kind(
            "remark_removal",
            s.obj({"remark_id": s.integer(), "base_version": _VERSION}),
            _remark_removal,
        ),
    )
}

ENVELOPE = s.obj(
    {
        "key": s.uuid_key(),
        "session": s.text(64),
        "kind": s.choice(*KINDS),
        "lesson_id": s.integer(),
        "payload": lambda value, path: value,  # checked against the kind's spec next
    }
)


def validate_submission(data: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = s.validate(ENVELOPE, data)
    envelope["payload"] = KINDS[envelope["kind"]].spec(envelope["payload"], "payload")
    return envelope


# --- the operation ----------------------------------------------------------------------------


@contextmanager
def _journal_ids() -> Iterator[list[int]]:
    """Collects the ids of the journal rows flushed inside the block (the ack names them)."""
    session = db.session()
    ids: list[int] = []
    session.info[_JOURNAL_IDS] = ids
    try:
        yield ids
    finally:
        session.info.pop(_JOURNAL_IDS, None)


def collect_journal_ids(session: Session, _ctx: Any) -> None:
    """`after_flush` (installed by `ediary.transactions`): the ids inside `_journal_ids`."""
    ids = session.info.get(_JOURNAL_IDS)
    if ids is not None:
        ids.extend(obj.id for obj in session.new if isinstance(obj, JournalEvent))


@operation
def apply_submission(
    actor: Actor,
    *,
    kiosk: Kiosk,
    key: str,
    digest: str,
    kind: str,
    lesson: Lesson,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """Applies one submission and stores its key and result with it (the caller commits).

    Entries wait for the lesson to begin (less the school's margin), checked at arrival."""
    require_started(lesson, utcnow())
    processed = ProcessedSubmission(key=key, kiosk_id=kiosk.id, digest=digest, result={})
    db.session.add(processed)
    db.session.flush()  # the key first: a racing twin stops here
    with _journal_ids() as event_ids:
        result = KINDS[kind].apply(actor, lesson, payload)
        db.session.flush()
    stored = {"kind": kind, "lesson_id": lesson.id, **result, "event_ids": sorted(event_ids)}
    processed.result = stored
    return stored
