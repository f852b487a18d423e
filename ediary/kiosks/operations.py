"""Kiosk records, their one-time enrollment codes, revocation, and teachers' sessions at a kiosk.

The submissions a kiosk makes are in submissions.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.access.revocation import kiosk_cut_off
from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.errors import Conflict, Refusal
from ediary.journal.operations import publish
from ediary.kiosks.auth import new_nonce, new_secret, secret_hash
from ediary.kiosks.models import EnrollmentCode, Kiosk, KioskTeacherSession
from ediary.kiosks.queries import end_of_day, school_of, school_today
from ediary.people.models import User
from ediary.schools.models import Room

# Unambiguous characters only: the code is read off a screen and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
# One answer for an unknown, used or expired code: the answer must not help anyone guess.
CODE_INVALID = _l("Kod jest nieprawidłowy, wygasł albo został już użyty.")


def code_digest(code: str) -> str:
    """Codes are random and short-lived, so a plain SHA-256 suffices (no password to protect)."""
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalised.encode()).hexdigest()


@operation
def create_kiosk(actor: Actor, room: Room, name: str | None = None) -> Kiosk:
    kiosk = Kiosk(school_id=room.school_id, room=room, name=name or f"Kiosk {room.name}")
    db.session.add(kiosk)
    return kiosk


@operation
def issue_enrollment_code(actor: Actor, kiosk: Kiosk, minutes: int = 30) -> str:
    """Returns the plain code once; only its digest is stored. It works once, until it expires."""
    if not 1 <= minutes <= 24 * 60:
        raise Refusal("code_minutes", _l("Kod może być ważny od 1 minuty do 24 godzin."))
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.session.add(
        EnrollmentCode(
            school_id=kiosk.school_id,
            kiosk_id=kiosk.id,
            code_hash=code_digest(code),
            issued_by_id=actor.user_id,
            expires_at=utcnow() + dt.timedelta(minutes=minutes),
        )
    )
    return f"{code[:5]}-{code[5:]}"


# --- enrollment and revocation ---------------------------------------------------------------


@operation
def enroll_kiosk(actor: Actor, code: EnrollmentCode, now: dt.datetime) -> tuple[Kiosk, str]:
    """Exchanges a one-time code for the device secret; returns the plain secret this once.

    Enrolling again (a replaced computer, or after a revocation) gives a new secret: the old
    one stops working, and after the commit every server process cuts the old connections
    (`kiosk_cut_off`; a socket it missed is refused at its next event).
    """
    if code.used_at is not None or code.expires_at <= now:
        raise Refusal("code_invalid", CODE_INVALID)
    kiosk = db.session.get(Kiosk, code.kiosk_id)
    if kiosk is None:  # a foreign key; kept for the type checker
        raise Refusal("code_invalid", CODE_INVALID)
    secret = new_secret()
    replacing = kiosk.secret_hash is not None
    code.used_at = now
    kiosk.secret_hash = secret_hash(secret)
    kiosk.enrolled_at = now
    kiosk.revoked_at = None
    _end_kiosk_sessions(kiosk, now, "reenrolled")
    if replacing:
        kiosk_cut_off(kiosk)
    return kiosk, secret


@operation
def revoke_kiosk(actor: Actor, kiosk: Kiosk, now: dt.datetime | None = None) -> Kiosk:
    """The device loses its access at once, and must be enrolled again with a new code.

    Its connections are cut after the commit by every server process's relay (`kiosk_cut_off`),
    after it has delivered the kiosk its `kiosk.revoked` event: the event also reaches a kiosk
    whose process the revocation's doorbell did not reach (Redis away), by the relay's poll of
    the journal. Every event of a socket that is still open meanwhile is refused (sockets.py
    re-reads the kiosk row). Entries the kiosk made before are not lost: they sync after it is
    enrolled again.
    """
    now = now or utcnow()
    if kiosk.revoked_at is None:
        kiosk.revoked_at = now
        publish("kiosk.revoked", school_id=kiosk.school_id, audience_id=kiosk.id, kiosk_id=kiosk.id)
        kiosk_cut_off(kiosk)
    _end_kiosk_sessions(kiosk, now, "kiosk_revoked")
    return kiosk


def _end_kiosk_sessions(kiosk: Kiosk, now: dt.datetime, reason: str) -> None:
    live = select(KioskTeacherSession).where(
        KioskTeacherSession.kiosk_id == kiosk.id, KioskTeacherSession.ended_at.is_(None)
    )
    for row in db.session.scalars(live):
        row.ended_at, row.ended_reason = now, reason


# --- teachers at a kiosk ----------------------------------------------------------------------

# NIST SP 800-63B (AAL2): reauthenticate at least every 12 hours.
SESSION_HOURS = 12
PIN_ATTEMPTS = 3


@operation
def open_teacher_session(
    actor: Actor, kiosk: Kiosk, teacher: User, *, now: dt.datetime, pin_hash: str | None = None
) -> KioskTeacherSession:
    """A full login: the teacher's day on this kiosk (its token: `access.token_of`).

    An earlier session of the same teacher on this kiosk ends ("replaced"): one teacher has one
    PIN on one kiosk at a time.
    """
    school = school_of(kiosk)
    day = school_today(school, now)
    earlier = select(KioskTeacherSession).where(
        KioskTeacherSession.kiosk_id == kiosk.id,
        KioskTeacherSession.teacher_id == teacher.id,
        KioskTeacherSession.ended_at.is_(None),
    )
    for row in db.session.scalars(earlier):
        row.ended_at, row.ended_reason = now, "replaced"
    session_row = KioskTeacherSession(
        kiosk_id=kiosk.id,
        teacher_id=teacher.id,
        nonce=new_nonce(),
        day=day,
        started_at=now,
        expires_at=min(now + dt.timedelta(hours=SESSION_HOURS), end_of_day(school, day)),
        user_version=teacher.session_version,
        pin_hash=pin_hash,
    )
    db.session.add(session_row)
    return session_row


@operation
def lock_teacher_session(
    actor: Actor, session_row: KioskTeacherSession, now: dt.datetime
) -> KioskTeacherSession:
    if session_row.locked_at is None:
        session_row.locked_at = now
    return session_row


@operation
def set_pin(actor: Actor, session_row: KioskTeacherSession, pin_hash: str) -> KioskTeacherSession:
    """Once per session: changing a PIN needs a full login, or anyone at an unlocked kiosk could."""
    if session_row.pin_hash is not None:
        raise Refusal("pin_already_set", _l("PIN na dziś jest już ustawiony."))
    session_row.pin_hash = pin_hash
    return session_row


@operation
def record_pin_attempt(
    actor: Actor, session_row: KioskTeacherSession, right: bool, now: dt.datetime
) -> KioskTeacherSession:
    """A right PIN unlocks the session and clears the count; the third wrong PIN in a row ends
    the session, so that only a full login opens the kiosk for this teacher again."""
    if right:
        session_row.pin_failures = 0
        session_row.locked_at = None
        return session_row
    session_row.pin_failures += 1
    if session_row.pin_failures >= PIN_ATTEMPTS:
        session_row.ended_at, session_row.ended_reason = now, "pin_failures"
    return session_row


@operation
def end_teacher_session(
    actor: Actor, session_row: KioskTeacherSession, reason: str, now: dt.datetime
) -> KioskTeacherSession:
    if session_row.ended_at is None:
        session_row.ended_at, session_row.ended_reason = now, reason
    return session_row


# --- the director's fleet page -------------------------------------------------------------

ROOM_TAKEN = _l("W tej sali jest już inny komputer. Najpierw przenieś albo odłącz tamten.")
MOVED_MEANWHILE = _l(
    "Ktoś w międzyczasie przeniósł ten komputer. Sprawdź salę na odświeżonej stronie."
)


@operation
def move_kiosk(actor: Actor, kiosk: Kiosk, room: Room, *, seen_room_id: int) -> Kiosk:
    """The kiosk goes to another room of its school (its computer carried there). The page sends
    the room it showed: someone else's move meanwhile is a conflict, not silently undone. Its
    lessons are now that room's, so its teachers' sessions end (the screen locks at its next
    call; a new login lists the new room's lessons); entries already made still arrive."""
    if room.school_id != kiosk.school_id:
        raise Refusal("room_unknown", _l("Nie ma takiej sali w tej szkole."))
    if kiosk.room_id != seen_room_id:
        raise Conflict("stale_room", MOVED_MEANWHILE)
    if kiosk.room_id == room.id:
        return kiosk
    taken = db.session.scalar(select(Kiosk.id).where(Kiosk.room_id == room.id))
    if taken is not None:
        raise Refusal("room_taken", ROOM_TAKEN)
    kiosk.room_id = room.id
    kiosk.room = room
    _end_kiosk_sessions(kiosk, utcnow(), "kiosk_moved")
    return kiosk
