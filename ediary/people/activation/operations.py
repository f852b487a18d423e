"""Activation codes, a parent's own password, and password reset (by the school or by e-mail)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.people.activation.models import ActivationCode
from ediary.people.activation.policy import check_new_password
from ediary.people.models import User
from ediary.people.operations import set_password, store_password_hash
from ediary.people.passwords import hash_password
from ediary.schools.models import District, Guardianship, School

# Read off a letter or an SMS and typed on a phone: no look-alikes (0/O, 1/I/L), no case.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CODE_DAYS = 14
RESET_MINUTES = 60
# One answer for an unknown login, a wrong, used or expired code: it must not help a guesser.
CODE_INVALID = _l("Login albo kod aktywacyjny jest nieprawidłowy, wygasł albo został już użyty.")
RESET_INVALID = _l("Link do zmiany hasła jest nieprawidłowy, wygasł albo został już użyty.")


def code_digest(code: str) -> str:
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalised.encode()).hexdigest()


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@operation
def issue_activation_code(actor: Actor, user: User, days: int = CODE_DAYS) -> str:
    """A new one-time code (returned in plain this once); every older unused code stops working.

    Also the school's way to reset a forgotten password: the parent sets a new one with it."""
    if not 1 <= days <= 60:
        raise Refusal("code_days", _l("Kod może być ważny od 1 do 60 dni."))
    for older in db.session.scalars(
        select(ActivationCode).where(
            ActivationCode.user_id == user.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked.is_(False),
        )
    ):
        older.revoked = True
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.session.add(
        ActivationCode(
            user_id=user.id,
            code_hash=code_digest(code),
            issued_by_id=actor.user_id,
            expires_at=utcnow() + dt.timedelta(days=days),
        )
    )
    return format_code(code)


def password_context(user: User) -> list[str]:
    """Words a guesser knows about the account: its login and names, the children's schools."""
    words = [user.login, user.first_name, user.last_name]
    if user.email:
        words.append(user.email.split("@")[0])
    rows = db.session.execute(
        select(School.name, School.short_name, District.name)
        .join(Guardianship, Guardianship.school_id == School.id)
        .join(District, District.id == School.district_id)
        .where(Guardianship.user_id == user.id)
    )
    for row in rows:
        words.extend(row)
    return words


def find_code(login: str, code: str, now: dt.datetime) -> ActivationCode | None:
    """The valid code of that account, or None (for every kind of failure alike)."""
    user_id = db.session.scalar(select(User.id).where(User.login == login.strip().lower()))
    found = db.session.scalar(
        select(ActivationCode).where(ActivationCode.code_hash == code_digest(code))
    )
    if (
        user_id is None
        or found is None
        or found.user_id != user_id
        or found.used_at is not None
        or found.revoked
        or found.expires_at <= now
    ):
        return None
    return found


def account_of_code(login: str, code: str, now: dt.datetime) -> tuple[User, ActivationCode] | None:
    """The account a valid code belongs to (the actor of its activation), or None."""
    found = find_code(login, code, now)
    user = db.session.get(User, found.user_id) if found is not None else None
    if found is None or user is None or not user.active:
        return None
    return user, found


@operation
def activate_account(
    actor: Actor, user: User, code: ActivationCode, *, password: str, now: dt.datetime
) -> User:
    """Sets the parent's own password with a code from the school; the code is used up.

    The claim is conditional (`used_at IS NULL`), so two requests racing with one code cannot
    both succeed."""
    if code.user_id != user.id:
        raise Refusal("code_invalid", CODE_INVALID)
    check_new_password(password, password_context(user))
    password_hash = hash_password(password)  # before the claim takes the write lock
    # A conditional UPDATE, not an ORM change: the claim must be race-free on both databases.
    # The activation's trace in the history is the account's password change below.
    claimed = db.session.execute(
        update(ActivationCode)
        .where(
            ActivationCode.id == code.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked.is_(False),
            ActivationCode.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Refusal("code_invalid", CODE_INVALID)
    db.session.refresh(code)
    store_password_hash(actor, user, password_hash)
    return user


# --- reset by e-mail: a signed, expiring, single-use link ------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ediary.password-reset")


def _fingerprint(user: User) -> str:
    """Changes with every new password and every ended session: a used link stops working."""
    material = f"{user.password_hash or ''}:{user.session_version}".encode()
    return hashlib.sha256(material).hexdigest()[:20]


def reset_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_of_reset_token(token: str, max_age: int = RESET_MINUTES * 60) -> User | None:
    try:
        data = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


@operation
def reset_password(actor: Actor, token: str, password: str) -> User:
    user = user_of_reset_token(token)
    if user is None or actor.user_id != user.id:
        raise Refusal("reset_invalid", RESET_INVALID)
    check_new_password(password, password_context(user))
    set_password(actor, user, password)
    return user


def users_for_reset(identifier: str) -> Iterable[User]:
    """The active accounts with an e-mail on file that `identifier` (a login or an e-mail) names."""
    wanted = identifier.strip().lower()
    if not wanted:
        return []
    query = select(User).where(User.active.is_(True), User.email.is_not(None))
    if "@" in wanted:
        query = query.where(func.lower(User.email) == wanted)  # no LIKE: no wildcards
    else:
        query = query.where(User.login == wanted)
    return list(db.session.scalars(query.limit(3)))
