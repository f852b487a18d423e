"""`/kiosk` events, an entry arrives: `submit`, its acknowledgement, then `delivered`.

A section of the namespace in sockets.py (the one registration point). What a submission is and
the operation that applies it are in submissions.py; here is how the socket receives one: the
stored answer for a known key, else applied and committed, retried on contention.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from flask import request
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload, load_only
from sqlalchemy.orm.exc import StaleDataError

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.extensions import socketio
from ediary.kiosks.access import check_device, check_kiosk_lesson, check_teacher_session
from ediary.kiosks.auth import session_id_of
from ediary.kiosks.models import Kiosk, KioskTeacherSession, ProcessedSubmission
from ediary.kiosks.rooms import NAMESPACE
from ediary.kiosks.submissions import apply_submission, digest_of
from ediary.office.rollover.closed import note_open_lessons
from ediary.people.models import User
from ediary.realtime.relay import local_relay
from ediary.schools.models import Pupil, SchoolClass, SchoolYear
from ediary.timetable.models import Lesson
from ediary.timetable.queries import note_on_roster, on_roster_of_joined_lesson

# Contention (two kiosks writing the same lesson at the same instant) is retried this often.
ATTEMPTS = 3
# How many entries one process writes at once; the others wait for a turn, in order. A process
# runs on one core, and an entry is CPU between its round trips: a few in flight keep that core
# busy while the database answers, more only interleave with each other and wait in
# PostgreSQL for the journal's lock. `python -m bench.herd_lock --writers 5,15` (a herd of 94
# rolls in one gevent process, rounds alternating): 5 at once cost less CPU per roll and
# committed the herd sooner than 15 (the pool's 5 plus its overflow of 10, the limit before).
# 5 is also the pool's own size: a herd of entries opens no overflow connections to close again.
ENTRY_WRITERS = 5
# How long an entry waits for its turn before the kiosk is told to send it again (`busy`).
ENTRY_TURN_SECONDS = 8.0
# How long the `delivered` notice waits for every process's relay to push a submission's events.
DELIVERY_WAIT_SECONDS = 5.0


def submit(device: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    ack = receive_submission(device, data)
    if ack.get("status") == "applied" and not ack["delivered"]:
        socketio.start_background_task(
            _announce_delivered,
            request.sid,  # type: ignore[attr-defined]
            ack["key"],
            ack["event_ids"],
        )
    return ack


def receive_submission(device: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A validated submission from the socket's `device` (`{"kiosk_id", "secret_hash"}` as it
    connected), below the socket (bench/roll_cost.py calls it too): refused if the kiosk was cut
    off since, else the stored answer for a known key, else applied and committed, retried on
    contention. Each try waits for its turn among the process's entries (`ENTRY_WRITERS`)."""
    digest = digest_of(data["kind"], data["lesson_id"], data["payload"])
    turns = _writers()
    for _attempt in range(ATTEMPTS):
        if not turns.acquire(timeout=ENTRY_TURN_SECONDS):
            break  # the process is that busy (or its database that slow): the kiosk retries
        try:
            ack = _try(device, data, digest)
        finally:
            turns.release()
        if ack is not None:
            return ack
    return {
        "ok": False,
        "error": "busy",
        "message": _("Serwer jest zajęty. Wpis zostanie wysłany ponownie."),
        "retry": True,
    }


@functools.cache
def _writers() -> threading.BoundedSemaphore:
    """The turns of `ENTRY_WRITERS`, made at the process's first entry (a benchmark changes
    their number and clears this). threading's semaphore waits on the lock that gevent patches
    in a server process, so an entry waiting for its turn lets the other greenlets run
    (tests/test_worker.py)."""
    return threading.BoundedSemaphore(ENTRY_WRITERS)


def _try(device: dict[str, Any], data: dict[str, Any], digest: str) -> dict[str, Any] | None:
    """One try of a submission in a transaction of its own: its acknowledgement, or None when
    another writer got in the way (rolled back: the caller tries again)."""
    key, kind, lesson_id, payload = (
        data["key"],
        data["kind"],
        data["lesson_id"],
        data["payload"],
    )
    pupil_id = payload.get("pupil_id")  # a grade's or a remark's: read with its lesson
    kiosk, stored, row, teacher, lesson, year_closed, pupil = _read_for_submission(
        device, key, data["session"], lesson_id, pupil_id
    )
    kiosk = check_device(kiosk, device)
    if stored is not None:
        return _replay(stored, kiosk, digest)
    row, teacher = check_teacher_session(
        kiosk, data["session"], row, teacher, utcnow(), for_entries=True
    )
    lesson = check_kiosk_lesson(kiosk, row, lesson)
    if not year_closed:
        # Read in this transaction: the flush's closed-year check need not ask again. A
        # closed year is left to that check, which refuses the entry in Polish.
        note_open_lessons(db.session(), [lesson.id])
    if pupil is not None:  # on this lesson's roster: its entry asks no more
        note_on_roster(db.session(), lesson, pupil)
    try:
        result = apply_submission(
            Actor(teacher, Channel.KIOSK, kiosk.id),
            kiosk=kiosk,
            key=key,
            digest=digest,
            kind=kind,
            lesson=lesson,
            payload=payload,
        )
        db.session.commit()
    except (IntegrityError, StaleDataError, OperationalError):
        # A twin with the same key won, or another kiosk wrote the same rows at the same
        # moment: start again from a clean transaction (the key lookup comes first).
        db.session.rollback()
        return None
    return _ack("applied", key, result, delivered=not result["event_ids"])


# The teacher's columns an entry reads: the session's checks (`check_teacher_session`) and the
# name its events give; and the pupil's: whose entry it is, in which school and class.
ENTRY_TEACHER = (
    User.id,
    User.first_name,
    User.last_name,
    User.active,
    User.is_demo,
    User.session_version,
)
ENTRY_PUPIL = (Pupil.id, Pupil.school_id, Pupil.class_id)


@functools.cache
def _submission_query() -> Select[
    Kiosk, ProcessedSubmission, KioskTeacherSession, User, Lesson, bool, Pupil
]:
    """The kiosk with its school, the key's stored answer, the session with its teacher and the
    teacher's roles, the lesson with its subject, whether the lesson's school year is closed,
    and the entry's pupil if it is on the lesson's roster, each None when there is none: one
    statement, built once and run with parameters. Every entry reads them: they were four of a
    remark's thirteen statements, its pupil and the flush's closed-year check, five of a roll's
    eighteen."""
    return (
        select(
            Kiosk,
            ProcessedSubmission,
            KioskTeacherSession,
            User,
            Lesson,
            SchoolYear.closed_at.is_not(None),
            Pupil,
        )
        .select_from(Kiosk)
        .outerjoin(ProcessedSubmission, ProcessedSubmission.key == bindparam("key"))
        .outerjoin(KioskTeacherSession, KioskTeacherSession.id == bindparam("session_id"))
        .outerjoin(User, User.id == KioskTeacherSession.teacher_id)
        .outerjoin(Lesson, Lesson.id == bindparam("lesson_id"))
        .outerjoin(SchoolClass, SchoolClass.id == Lesson.class_id)
        .outerjoin(SchoolYear, SchoolYear.id == SchoolClass.year_id)
        .outerjoin(Pupil, (Pupil.id == bindparam("pupil_id")) & on_roster_of_joined_lesson())
        .where(Kiosk.id == bindparam("kiosk_id"))
        .options(
            joinedload(Kiosk.school),
            joinedload(User.memberships),
            joinedload(Lesson.subject),  # every event of a lesson names its subject
            # What an entry needs of the teacher and the pupil, no more: not the teacher's
            # password hash or contacts, not the pupil's PESEL, birth, document or address,
            # which every grade and remark read for nothing (20 of the statement's 96 columns).
            # Anything else is loaded when asked for, in a statement of its own.
            load_only(*ENTRY_TEACHER),
            load_only(*ENTRY_PUPIL),
        )
        # Fresh from the database: a retry after a rollback reads what the other writer left.
        .execution_options(populate_existing=True)
    )


def _read_for_submission(
    device: dict[str, Any], key: str, token: str, lesson_id: int, pupil_id: int | None
) -> tuple[
    Kiosk | None,
    ProcessedSubmission | None,
    KioskTeacherSession | None,
    User | None,
    Lesson | None,
    bool | None,
    Pupil | None,
]:
    """What a submission is checked against (`_submission_query`); the checks are the caller's.
    Nothing at all for a socket with no device or a kiosk id with no row."""
    params = {
        "kiosk_id": device.get("kiosk_id"),
        "key": key,
        "session_id": session_id_of(token),  # None for a malformed token: no session matches
        "lesson_id": lesson_id,
        "pupil_id": pupil_id,  # None: no pupil matches
    }
    found = db.session.execute(_submission_query(), params).unique().first()
    return (None,) * 7 if found is None else tuple(found)  # type: ignore[return-value]


def _replay(stored: ProcessedSubmission, kiosk: Kiosk, digest: str) -> dict[str, Any]:
    if stored.kiosk_id != kiosk.id or stored.digest != digest:
        return {
            "ok": False,
            "error": "key_reused",
            "message": _("Ten klucz wpisu był już użyty dla innej treści."),
        }
    # Committed earlier, so its events were pushed then (or reach parents on their resume).
    return _ack("duplicate", stored.key, stored.result, delivered=True)


def _ack(status: str, key: str, result: dict[str, Any], *, delivered: bool) -> dict[str, Any]:
    return {
        "ok": True,
        "status": status,
        "key": key,
        "result": result,
        "event_ids": result.get("event_ids", []),
        "delivered": delivered,
    }


def _announce_delivered(sid: str, key: str, event_ids: list[int]) -> None:
    """Runs after the acknowledgement. Tells the kiosk once every server process has pushed the
    submission's journal events to its parents' sockets: this one's relay and each live peer
    (see docs/protocol.md, "Entry states on the kiosk"); after the wait, nothing is said."""
    relay = local_relay()
    if relay is not None and not relay.wait_delivered(max(event_ids), DELIVERY_WAIT_SECONDS):
        return  # not pushed everywhere yet: the kiosk keeps "on the server"; parents resume it
    socketio.emit("delivered", {"key": key, "event_ids": event_ids}, to=sid, namespace=NAMESPACE)
