"""What a kiosk submits: the kinds, their payloads, and the one operation that applies them.

Every submission carries a client-made idempotency key. `apply_submission` writes the key (with a
digest of the content and the result) in the same transaction as the effect, so:
- a repeated key finds the stored row and writes nothing ("duplicate");
- a crash between the commit and the acknowledgement makes the retry a duplicate, never a
  second entry;
- two identical submissions racing on two sockets collide on the key's primary key: one commits,
  the other rolls back and answers from the stored row.
The key row is inserted at the commit, with its events' ids (`delivery.insert_with_ids`): a
racing twin does its work too, and fails on the key there, before anything of it is committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Table

from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.diary.models import RemarkKind
from ediary.diary.operations import (
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
from ediary.homework.kiosk import apply_homework
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
from ediary.realtime import delivery
from ediary.timetable.models import Lesson

Apply = Callable[[Actor, Lesson, dict[str, Any]], dict[str, Any]]


def digest_of(kind: str, lesson_id: int, payload: dict[str, Any]) -> str:
    """What "the same content" means: kind, lesson and payload; not the teacher session, which
    may change when an entry waits in the outbox across a re-login."""
    content = s.canonical_json({"kind": kind, "lesson_id": lesson_id, "payload": payload})
    return hashlib.sha256(content.encode()).hexdigest()


# --- what a submission is: the schema's `submit.request`, and what JSON Schema cannot say -------


def validate_submission(data: Any) -> dict[str, Any]:
    """The envelope and its kind's payload as the protocol's schema has them (`submit.request`),
    in their one form: the key in lowercase (a UUID's case does not matter), a roll's pupil ids
    without leading zeros; and a roll's `base` naming exactly the pupils of its `states`.

    The envelope first, then the payload against its kind: what `submit.request` says with its
    `if`/`then` per kind, without trying the eight `if`s (a quarter of the time of a roll)."""
    envelope: dict[str, Any] = s.validate("submission", data)
    payload = s.validate(f"kind.{envelope['kind']}", envelope["payload"], field="payload")
    if envelope["kind"] == "roll":
        payload = _roll_payload(payload)
    return {**envelope, "key": envelope["key"].lower(), "payload": payload}


def _roll_payload(payload: dict[str, Any]) -> dict[str, Any]:
    states = _by_pupil_id(payload["states"], "payload.states")
    base = _by_pupil_id(payload.get("base", {}), "payload.base")
    unmatched = sorted(set(states) ^ set(base), key=int)
    if unmatched:
        raise s.Invalid(f"payload.base.{unmatched[0]}")
    return {**payload, "states": states, "base": base}


def _by_pupil_id(value: dict[str, Any], path: str) -> dict[str, Any]:
    """`{"<pupil id>": value}` with each pupil once: "07" and "7" are one pupil."""
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        # isdigit: Python's `re` (under the schema's patterns) lets "7\n" pass as "7".
        pupil_id = str(int(key)) if key.isascii() and key.isdigit() else ""
        if not pupil_id or pupil_id in cleaned:
            raise s.Invalid(f"{path}.{key[:12]}")
        cleaned[pupil_id] = item
    return cleaned


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


# The kinds of entry, in the order of the schema's `submit.request` (a test keeps them in step).
KINDS: dict[str, Apply] = {
    "roll": _roll,
    "topic": _topic,
    "grade": _grade,
    "grade_correction": _grade_correction,
    "grade_removal": _grade_removal,
    "remark": _remark,
    "remark_correction": _remark_correction,
    "remark_removal": _remark_removal,
    "homework": apply_homework,  # issue 18: a test or homework announced (ediary/homework)
}


# --- the operation ----------------------------------------------------------------------------


@contextmanager
def _journal_rows() -> Iterator[list[JournalEvent]]:
    """The journal rows published inside the block (held without ids until the commit)."""
    session = db.session()
    before = {id(row) for row in delivery.held(session)}
    rows: list[JournalEvent] = []
    yield rows
    rows.extend(row for row in delivery.held(session) if id(row) not in before)


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
    with _journal_rows() as rows:
        result = KINDS[kind](actor, lesson, payload)
    # The key and its result are written once, at the commit, with the event ids, which only
    # the commit gives (`delivery.insert_with_ids`): `stored` is the result written, so its
    # caller reads them after the commit. A twin with the same key racing this one fails there
    # on the key's primary key, rolls back and replays this one's stored answer (receipt.py).
    stored = {"kind": kind, "lesson_id": lesson.id, **result, "event_ids": []}
    key_row = {"key": key, "kiosk_id": kiosk.id, "digest": digest, "result": stored, "at": utcnow()}
    delivery.insert_with_ids(delivery.WithIds(_KEYS, key_row, "result", rows))
    return stored


# The keys' table (a `WithIds` row names its table).
_KEYS = cast(Table, ProcessedSubmission.__table__)
