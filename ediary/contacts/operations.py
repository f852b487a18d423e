"""Changing a person's e-mail or phone, and proving a new one (house rule 3: every write here).

A new address is stored unverified and its proof is queued (`OutgoingMessage`, kind VERIFY,
sent by `ediary send-notifications` like every message): a signed single-use link by e-mail, a
six-digit code by SMS. Notifications keep going to the last verified address of that kind until
the new one is proved (`queries.verified_address`). Only a hash of a link's nonce or of a code is
stored, keyed with the application's secret, so the table alone opens nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from ediary.audit.recording import Actor, operation
from ediary.contacts.models import ContactKind, ContactVerification
from ediary.contacts.queries import latest, verified_address
from ediary.db import db, utcnow
from ediary.errors import Conflict, Refusal
from ediary.ids import MAX_ID
from ediary.notifications.models import Channel, MessageKind, OutgoingMessage
from ediary.people.models import User

LINK_VALID = dt.timedelta(hours=48)
CODE_VALID = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5  # wrong codes, then the code is spent and a new one must be sent
RESEND_AFTER = dt.timedelta(seconds=60)
MAX_SENDS = 5  # proofs of one address a day
MAX_NEW_ADDRESSES = 10  # new addresses of one person a day: nobody's phone bill is a toy
DAY = dt.timedelta(days=1)

EMAIL_INVALID = _l("To nie jest poprawny adres e-mail (np. jan.kowalski@example.pl).")
PHONE_INVALID = _l(
    "To nie jest poprawny numer telefonu komórkowego. Podaj 9 cyfr polskiego numeru "
    "albo numer z kierunkowym kraju, np. +48 601 234 567."
)


class Outcome(enum.StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"  # a wrong code: counted (committed), the form says so


def normalise(kind: ContactKind, raw: str) -> str:
    """The address as stored: an e-mail as `email-validator` normalises it (syntax only, no
    DNS), a phone in E.164 (`phonenumbers`, Polish numbers without their +48 too)."""
    text = raw.strip()
    if kind is ContactKind.EMAIL:
        try:
            # `test_environment` only lets the reserved `.test` domain through (the tests' and
            # the demo's addresses); other special-use names (localhost, .invalid) still refuse.
            checked = validate_email(text, check_deliverability=False, test_environment=True)
            return str(checked.normalized)
        except EmailNotValidError:
            raise Refusal("email_invalid", EMAIL_INVALID) from None
    try:
        number = phonenumbers.parse(text, "PL")
    except phonenumbers.NumberParseException:
        raise Refusal("phone_invalid", PHONE_INVALID) from None
    kinds = phonenumbers.PhoneNumberType
    mobile = {kinds.MOBILE, kinds.FIXED_LINE_OR_MOBILE}  # an SMS reaches no landline
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in mobile:
        raise Refusal("phone_invalid", PHONE_INVALID)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def on_file_of(user: User, kind: ContactKind) -> str | None:
    return user.email if kind is ContactKind.EMAIL else user.phone


def _set_on_file(user: User, kind: ContactKind, address: str | None) -> None:
    if kind is ContactKind.EMAIL:
        user.email = address
    else:
        user.phone = address


@operation
def change_contact(
    actor: Actor, user: User, kind: ContactKind, address: str, *, seen: str | None = None
) -> ContactVerification | None:
    """`user`'s new address of `kind`, stored unverified with its proof queued; None when
    nothing waits for a proof (the address is the verified one, or "" removed the address).
    The same address sent again changes nothing (a double submit sends no second proof: the
    page has "send again").

    `seen`: the address on file that the page showed ("" for none); if someone changed it
    meanwhile, a `Conflict` shows the person what it is now instead of undoing it silently."""
    wanted = normalise(kind, address) if address.strip() else ""
    on_file = on_file_of(user, kind)
    # The same address already on file is no conflict: the twin of this very form did it.
    if seen is not None and (on_file or "") != seen and on_file != wanted:
        raise Conflict(
            "contact_changed",
            _l(
                "Ktoś w międzyczasie zmienił ten adres na: %(now)s. Sprawdź i zapisz ponownie.",
                now=on_file or "—",
            ),
        )
    if not wanted:
        _remove(user, kind)
        return None
    newest = latest(user.id, kind)
    if newest is not None and newest.verified_at is None and newest.address == wanted:
        return newest  # already waiting for this proof
    if newest is not None and newest.verified_at is None:
        newest.secret_hash = None  # the address it would prove is replaced: its proof is void
    _set_on_file(user, kind, wanted)
    if verified_address(user.id, kind) == wanted:
        return None  # back to the proven address: nothing to prove
    now = utcnow()
    added = db.session.scalar(
        select(func.count(ContactVerification.id)).where(
            ContactVerification.user_id == user.id, ContactVerification.created_at > now - DAY
        )
    )
    if (added or 0) >= MAX_NEW_ADDRESSES:
        raise Refusal(
            "too_many_addresses",
            _l("Dziś zmieniono te dane zbyt wiele razy. Spróbuj jutro albo poproś sekretariat."),
        )
    row = ContactVerification(user_id=user.id, kind=kind, address=wanted, created_at=now)
    db.session.add(row)
    db.session.flush()
    _send_proof(row, now)
    return row


@operation
def change_contacts(actor: Actor, user: User, typed: dict[ContactKind, tuple[str, str]]) -> int:
    """A contacts form: per kind, (what was typed, the address on file the page showed). The
    unchanged ones are left alone, the others go through `change_contact` (an empty one removes
    the address). Returns how many addresses now wait for their proof."""
    waiting = 0
    for kind, (address, seen) in typed.items():
        wanted, on_file = address.strip(), on_file_of(user, kind) or ""
        if wanted == on_file == seen:
            continue
        if change_contact(actor, user, kind, wanted, seen=seen) is not None:
            waiting += 1
    return waiting


def _remove(user: User, kind: ContactKind) -> None:
    """No address of `kind` any more: a proved empty address (nothing to prove: it sends to
    nobody), so that the last proved one stops receiving; a waiting proof is void."""
    newest = latest(user.id, kind)
    if newest is not None and newest.verified_at is None:
        newest.secret_hash = None
    user_had = on_file_of(user, kind)
    _set_on_file(user, kind, None)
    if verified_address(user.id, kind) or user_had:
        now = utcnow()
        db.session.add(
            ContactVerification(
                user_id=user.id, kind=kind, address="", created_at=now, verified_at=now
            )
        )


@operation
def resend_proof(actor: Actor, user: User, kind: ContactKind) -> ContactVerification:
    """A new link or code for the address that waits for its proof (the old one stops working)."""
    row = latest(user.id, kind)
    if row is None or row.verified_at is not None:
        raise Refusal("nothing_pending", _l("Ten adres jest już potwierdzony."))
    now = utcnow()
    if row.sent_at is not None and now - row.sent_at < RESEND_AFTER:
        raise Refusal(
            "too_soon", _l("Wysłaliśmy go przed chwilą. Poczekaj minutę i spróbuj ponownie.")
        )
    _send_proof(row, now)
    return row


def _send_proof(row: ContactVerification, now: dt.datetime) -> None:
    if row.sent_at is not None and now - row.sent_at > DAY:
        row.sends = 0
    if row.sends >= MAX_SENDS:
        raise Refusal(
            "too_many_sends",
            _l("Wysłaliśmy już zbyt wiele potwierdzeń na ten adres. Spróbuj jutro."),
        )
    row.sends += 1
    row.sent_at = now
    row.attempts = 0
    if row.kind is ContactKind.EMAIL:
        nonce = secrets.token_urlsafe(16)
        row.secret_hash = _hash(row.id, nonce)
        token = _serializer().dumps({"v": row.id, "n": nonce})
        link = current_app.config["PUBLIC_URL"].rstrip("/") + f"/contacts/confirm/{token}"
        hours = int(LINK_VALID.total_seconds() // 3600)
        with force_locale("pl"):
            payload = {
                "subject": _("Potwierdź adres e-mail w dzienniku"),
                "body": _(
                    "Ten adres podano w dzienniku szkolnym. Aby otrzymywać na niego "
                    "powiadomienia, otwórz link (ważny %(hours)s godzin, działa raz):\n\n"
                    "%(link)s\n\nJeśli to nie Ty, zignoruj tę wiadomość.",
                    hours=hours,
                    link=link,
                ),
            }
        channel = Channel.EMAIL
    else:
        code = f"{secrets.randbelow(10**6):06d}"
        row.secret_hash = _hash(row.id, code)
        minutes = int(CODE_VALID.total_seconds() // 60)
        with force_locale("pl"):
            body = _(
                "Kod potwierdzenia numeru w dzienniku: %(code)s (ważny %(minutes)s minut).",
                code=code,
                minutes=minutes,
            )
        payload = {"subject": "", "body": body}
        channel = Channel.SMS
    payload["verification_id"] = row.id
    db.session.add(
        OutgoingMessage(
            user_id=row.user_id,
            channel=channel,
            kind=MessageKind.VERIFY,
            payload=payload,
            urgent=True,
            next_attempt_at=now,
        )
    )


@operation
def verify_contact(actor: Actor, row: ContactVerification, secret: str) -> Outcome:
    """Proves `row`'s address with the SMS code or the link's nonce. A wrong code is counted
    and answered with `Outcome.WRONG` (not a refusal: the count must be committed); after
    `MAX_ATTEMPTS` the code is spent."""
    if row.verified_at is not None:
        raise Refusal("already_verified", _l("Ten adres jest już potwierdzony."))
    if row.attempts >= MAX_ATTEMPTS:
        raise Refusal(
            "too_many_attempts",
            _l("Podano zbyt wiele błędnych kodów. Wyślij nowy kod."),
        )
    newest = latest(row.user_id, row.kind)
    if row.secret_hash is None or newest is None or newest.id != row.id:
        raise Refusal("proof_void", _l("To potwierdzenie już nie działa. Wyślij nowe z ustawień."))
    valid = LINK_VALID if row.kind is ContactKind.EMAIL else CODE_VALID
    now = utcnow()
    if row.sent_at is None or now - row.sent_at > valid:
        raise Refusal("proof_expired", _l("Kod lub link wygasł. Wyślij nowy z ustawień."))
    if not hmac.compare_digest(row.secret_hash, _hash(row.id, secret.strip())):
        row.attempts += 1
        if row.attempts >= MAX_ATTEMPTS:
            row.secret_hash = None
        return Outcome.WRONG
    row.secret_hash = None
    row.verified_at = now
    return Outcome.VERIFIED


@operation
def record_trusted_contact(
    actor: Actor, user: User, kind: ContactKind, address: str
) -> ContactVerification:
    """An address from the school's trusted set-up (the demo seed; existing data got the same
    in the migration), on file and verified at once. No page calls it: whatever a person types
    goes through `change_contact` and its proof."""
    wanted = normalise(kind, address)
    _set_on_file(user, kind, wanted)
    now = utcnow()
    row = ContactVerification(
        user_id=user.id, kind=kind, address=wanted, created_at=now, verified_at=now
    )
    db.session.add(row)
    return row


def verification_of_link(token: str) -> tuple[ContactVerification, str] | None:
    """The verification a link names and its nonce, if the signature holds and it is not
    older than `LINK_VALID`; None for anything else (one answer for every failure)."""
    try:
        data: Any = _serializer().loads(token, max_age=int(LINK_VALID.total_seconds()))
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("v"), int):
        return None
    if not isinstance(data.get("n"), str) or not 0 < data["v"] <= MAX_ID:
        return None
    row = db.session.get(ContactVerification, data["v"])
    return (row, data["n"]) if row is not None else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="contact-verification")


def _hash(row_id: int, secret: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{row_id}:{secret}".encode(), hashlib.sha256).hexdigest()
