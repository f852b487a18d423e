"""Enrolling an authenticator, checking a second factor, recovery codes, switching off, and a
director's reset. Each takes the actor, refuses in Polish, flushes and never commits.

Codes are checked by pyotp (RFC 6238: 30-second steps, 6 digits, SHA-1, as every authenticator
app expects) with one step of clock drift either way. A code is accepted once: the step of the
last accepted one is kept, and an older or equal step is refused (RFC 6238 §5.2), so a code
seen over a shoulder cannot be used again. A recovery code works once and is then spent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pyotp
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ediary.access.revocation import sessions_ended
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Refusal
from ediary.people.models import Role, User
from ediary.people.twofactor.models import Authenticator, RecoveryCode

ISSUER = "ediary"
STEP = 30
RECOVERY_CODES = 10
# Written down on paper and typed: no look-alikes (0/O, 1/I/L), no case.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
REQUIRED_ROLES = frozenset({Role.SCHOOL_ADMIN, Role.SECRETARY, Role.DISTRICT_ADMIN})
WRONG_CODE = _l("Nieprawidłowy kod. Wpisz 6 cyfr z aplikacji albo jeden z kodów zapasowych.")


def required_for(user: User) -> bool:
    """School administrators, secretaries and district administrators must use it."""
    return any(m.role in REQUIRED_ROLES for m in user.memberships)


def authenticator_of(user: User) -> Authenticator | None:
    found: Authenticator | None = db.session.scalar(
        select(Authenticator).where(Authenticator.user_id == user.id)
    )
    return found


def enrolled(user: User) -> bool:
    found = authenticator_of(user)
    return found is not None and found.confirmed_at is not None


def enrolled_among(user_ids: list[int]) -> set[int]:
    """Which of these accounts have a confirmed authenticator (one query, for lists)."""
    if not user_ids:
        return set()
    query = select(Authenticator.user_id).where(
        Authenticator.user_id.in_(user_ids), Authenticator.confirmed_at.is_not(None)
    )
    return set(db.session.scalars(query))


def otpauth_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.login, issuer_name=ISSUER)


def _digest(code: str) -> str:
    plain = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(plain.encode()).hexdigest()


def _step(now: dt.datetime) -> int:
    return int(now.timestamp()) // STEP


def _totp_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The step (of now-1, now, now+1) whose code `code` is, or None."""
    digits = code.strip().replace(" ", "")
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        at = now + dt.timedelta(seconds=offset * STEP)
        if secrets.compare_digest(totp.at(at), digits):
            return _step(at)
    return None


@operation
def offer_authenticator(actor: Actor, user: User) -> Authenticator:
    """A new secret to enrol (shown as a QR code and as text); the confirmed one, if any, stays
    in use until a code from the new one confirms it."""
    found = authenticator_of(user)
    if found is not None and found.confirmed_at is None:
        return found  # the same QR code on a reload: the app may have scanned it already
    if found is not None:
        raise Refusal("already_enrolled", _l("Logowanie dwuskładnikowe jest już włączone."))
    found = Authenticator(user_id=user.id, secret=pyotp.random_base32())
    db.session.add(found)
    return found


@operation
def confirm_authenticator(actor: Actor, user: User, code: str, now: dt.datetime) -> list[str]:
    """The first code from the app switches it on; returns the ten recovery codes (plain, this
    once). Refused with the same message as a wrong login code."""
    found = authenticator_of(user)
    if found is None or found.confirmed_at is not None:
        raise Refusal("not_enrolling", _l("Zacznij włączanie od nowa."))
    step = _totp_step(found.secret, code, now)
    if step is None:
        raise Refusal("code_wrong", WRONG_CODE)
    found.confirmed_at = now
    found.last_step = step
    return new_recovery_codes(actor, user)


@operation
def new_recovery_codes(actor: Actor, user: User) -> list[str]:
    """Ten fresh codes; the earlier ones stop working."""
    for earlier in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(earlier)
    db.session.flush()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))
    return codes


@operation
def check_second_factor(actor: Actor, user: User, code: str, now: dt.datetime) -> str:
    """ "totp" or "recovery" for a right code (a recovery code is spent); refused otherwise.

    The claims are conditional UPDATEs, so two requests racing with one code cannot both pass."""
    found = authenticator_of(user)
    if found is None or found.confirmed_at is None:
        raise Refusal("code_wrong", WRONG_CODE)
    step = _totp_step(found.secret, code, now)
    if step is not None:
        claimed = db.session.execute(
            update(Authenticator)
            .where(
                Authenticator.id == found.id,
                (Authenticator.last_step.is_(None)) | (Authenticator.last_step < step),
            )
            .values(last_step=step)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            db.session.refresh(found)
            return "totp"
        raise Refusal("code_used", _l("Ten kod został już użyty. Poczekaj na następny."))
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount == 1:  # type: ignore[attr-defined]
        return "recovery"
    raise Refusal("code_wrong", WRONG_CODE)


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


@operation
def switch_off(actor: Actor, user: User) -> User:
    """A teacher switches it off for themselves; required roles cannot."""
    if required_for(user):
        raise Refusal(
            "required", _l("Twoja rola wymaga logowania dwuskładnikowego: nie można go wyłączyć.")
        )
    _forget(user)
    return user


@operation
def reset_second_factor(actor: Actor, user: User) -> User:
    """A director's reset for a lost phone: the authenticator and recovery codes are gone, every
    session of the person ends; at the next login they enrol again (if their role requires it)."""
    if actor.user_id == user.id:
        raise Refusal("self_reset", _l("Własne logowanie dwuskładnikowe zmieniasz w ustawieniach."))
    _forget(user)
    user.session_version += 1
    sessions_ended(user)
    return user


def _forget(user: User) -> None:
    for row in db.session.scalars(select(Authenticator).where(Authenticator.user_id == user.id)):
        db.session.delete(row)
    for code in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(code)
