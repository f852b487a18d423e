"""`/kiosk` events, the teacher at the screen: the full login, the day's PIN, locking.

A section of the namespace in sockets.py (the one registration point): each handler gets the
device, read again, and the event's data, validated against the protocol's schema.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ediary.access.roles import has_school_role
from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.kiosks import operations
from ediary.kiosks.access import SessionEnded, live_session_of, load_teacher_session, token_of
from ediary.kiosks.auth import check_pin_format, hash_pin, verify_pin
from ediary.kiosks.lessons import ensure_today, follow
from ediary.kiosks.models import Kiosk, KioskTeacherSession
from ediary.kiosks.operations import (
    PIN_ATTEMPTS,
    end_teacher_session,
    lock_teacher_session,
    open_teacher_session,
    record_pin_attempt,
)
from ediary.kiosks.queries import teacher_day
from ediary.people.auth import authenticate
from ediary.people.models import Role, User
from ediary.people.throttle import Attempt, attempt_succeeded, begin_attempt, kiosk_lane


def _end_reads() -> None:
    """Ends the (read-only) transaction before waiting for argon2 in the thread pool.

    Other greenlets run meanwhile; a transaction kept open across the wait would hold a stale
    SQLite snapshot, and its first write afterwards fails ("database is locked") if anyone
    committed in between. Nothing is pending here, so the commit writes nothing.
    """
    db.session.commit()


def _session_reply(row: KioskTeacherSession, teacher: User) -> dict[str, Any]:
    return {
        "session": token_of(row),
        "teacher": {
            "id": teacher.id,
            "first_name": teacher.first_name,
            "last_name": teacher.last_name,
        },
        "expires_at": row.expires_at.isoformat(),
        "pin_set": row.pin_hash is not None,
    }


def teacher_login(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    """A full login: opens the teacher's day on this kiosk and sets the day's PIN."""
    now = utcnow()
    login = data["login"].strip().lower()
    pin = data.get("pin")
    if pin is not None:
        check_pin_format(pin)
    # The policy of the web login (people/throttle.py), in this kiosk's own lane: growing
    # delays per teacher, a ceiling for the kiosk. The attempt counts as a failure (and is
    # committed) before argon2 runs, and is forgotten if it succeeds.
    lane = kiosk_lane(kiosk.id)
    _end_reads()  # the device was read: on SQLite the write below needs a fresh snapshot
    attempt = begin_attempt(Actor(None, Channel.KIOSK, kiosk.id), Attempt(login, lane), now)
    db.session.commit()
    teacher = authenticate(login, data["password"])  # argon2 in gevent's thread pool
    _end_reads()
    if teacher is None or not has_school_role(teacher, kiosk.school_id, Role.TEACHER):
        if teacher is None:
            raise Refusal("login_failed", _l("Nieprawidłowy login lub hasło."))
        raise Refusal("not_teacher_here", _l("To konto nie jest kontem nauczyciela tej szkoły."))
    pin_hash = hash_pin(pin) if pin is not None else None
    actor = Actor(teacher, Channel.KIOSK, kiosk.id)
    attempt_succeeded(actor, attempt)
    row = open_teacher_session(actor, kiosk, teacher, now=now, pin_hash=pin_hash)
    ensure_today(kiosk, now)
    db.session.commit()
    return {"ok": True, **_session_reply(row, teacher), **teacher_day(kiosk, teacher, now)}


def pin_unlock(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    """Reopens the teacher's day on this kiosk; the third wrong PIN in a row ends it."""
    now = utcnow()
    check_pin_format(data["pin"])
    row = live_session_of(kiosk, data["teacher_id"], now)
    if row is None or row.pin_hash is None:
        raise Refusal("login_required", _l("Zaloguj się loginem i hasłem."))
    session_id, pin_hash = row.id, row.pin_hash
    _end_reads()
    right = verify_pin(pin_hash, data["pin"])  # argon2 in gevent's thread pool
    # Read again after the wait, locked: two attempts at once both count.
    row = db.session.get(
        KioskTeacherSession, session_id, with_for_update=True, populate_existing=True
    )
    teacher = db.session.get(User, data["teacher_id"])
    if row is None or teacher is None or row.ended_at is not None:
        raise Refusal("login_required", _l("Zaloguj się loginem i hasłem."))
    record_pin_attempt(Actor(teacher, Channel.KIOSK, kiosk.id), row, right, now)
    db.session.commit()
    if not right and row.ended_at is not None:
        raise Refusal(
            "login_required", _l("Za dużo błędnych PIN-ów. Zaloguj się loginem i hasłem.")
        )
    if not right:
        raise Refusal(
            "pin_wrong",
            _l("Nieprawidłowy PIN."),
            attempts_left=PIN_ATTEMPTS - row.pin_failures,
        )
    # The same checks as every later event (account, hard logout), now that it is open.
    row, teacher = load_teacher_session(kiosk, token_of(row), now)
    return {"ok": True, **_session_reply(row, teacher), **teacher_day(kiosk, teacher, now)}


def set_pin(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    pin_hash = hash_pin(data["pin"])  # first, with no transaction open
    row, teacher = load_teacher_session(kiosk, data["session"], utcnow())
    operations.set_pin(Actor(teacher, Channel.KIOSK, kiosk.id), row, pin_hash)
    db.session.commit()
    return {"ok": True, "pin_set": True}


def teacher_logout(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    """Locks the teacher's day on this kiosk (the PIN reopens it), or with `end` ends it
    (only a full login opens a new one). Twice is not an error."""
    now = utcnow()
    try:
        row, teacher = load_teacher_session(kiosk, data["session"], now)
    except SessionEnded:
        return {"ok": True}
    actor = Actor(teacher, Channel.KIOSK, kiosk.id)
    if data.get("end"):
        end_teacher_session(actor, row, "logout", now)
    else:
        lock_teacher_session(actor, row, now)
    db.session.commit()
    follow(None)
    return {"ok": True}
