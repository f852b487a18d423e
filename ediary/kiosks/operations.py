"""Kiosk records and their one-time enrollment codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import lazy_gettext as _l

from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.kiosks.models import EnrollmentCode, Kiosk
from ediary.schools.models import Room

# Unambiguous characters only: the code is read off a screen and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


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
