"""Device secrets (random, stored only as SHA-256 digests) and teacher-session tokens (HMACs).

Why SHA-256 and not argon2 here: a slow hash protects a secret a person chose (a password has
maybe 30-40 bits of entropy, so a leaked hash can be brute-forced unless each guess is costly).
These secrets are 256 random bits from `secrets`; nobody can enumerate 2**256 guesses, however
fast the hash, so a slow hash would add nothing but ~200 ms of CPU on every kiosk connect (and
all 94 kiosks reconnect at once after a network blip).
PINs are the opposite case (a few digits chosen by a person) and use argon2 (people/passwords.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal
from ediary.people.passwords import hash_password, verify_password

SECRET_BYTES = 32
# The stored form names its algorithm, so that a later change can tell old rows from new ones.
_PREFIX = "sha256$"


def new_secret() -> str:
    """32 random bytes, URL-safe base64 (43 characters): a device secret."""
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_hash(secret: str) -> str:
    return _PREFIX + digest(secret)


def verify_secret(stored: str | None, secret: str) -> bool:
    """Constant-time comparison of digests (the digest of a guess leaks nothing useful)."""
    if stored is None or not stored.startswith(_PREFIX):
        return False
    return hmac.compare_digest(stored.removeprefix(_PREFIX), digest(secret))


# --- teacher session tokens --------------------------------------------------------------------
# "<session id>.<HMAC-SHA256(secret key, id and nonce)>": nothing secret is stored, so the server
# can hand the same token out again when the teacher unlocks with the PIN, and a copy of the
# database alone cannot make one.


def new_nonce() -> str:
    return secrets.token_hex(16)


def session_token(key: str, session_id: int, nonce: str) -> str:
    return f"{session_id}.{_session_mac(key, session_id, nonce)}"


def session_id_of(token: str) -> int | None:
    head, dot, _mac = token.partition(".")
    if not dot or not head.isascii() or not head.isdigit() or len(head) > 10:
        return None
    return int(head)


def verify_session_token(key: str, token: str, session_id: int, nonce: str) -> bool:
    return hmac.compare_digest(token, session_token(key, session_id, nonce))


def _session_mac(key: str, session_id: int, nonce: str) -> str:
    message = f"ediary.kiosk-session:{session_id}:{nonce}".encode()
    mac = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


# --- the day's PIN -----------------------------------------------------------------------------
# A PIN has 4-8 digits: at most 10**8 guesses, so its stored hash is argon2 like a password's.
# What protects it online is the count: three wrong PINs end the day's session (operations.py).
# Both functions wait for gevent's thread pool: call them with no transaction open (sockets.py).


def check_pin_format(pin: str) -> None:
    if not (4 <= len(pin) <= 8 and pin.isascii() and pin.isdigit()):
        raise Refusal("pin_format", _l("PIN to od 4 do 8 cyfr."))


def hash_pin(pin: str) -> str:
    check_pin_format(pin)
    return hash_password(pin)


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    return pin_hash is not None and verify_password(pin_hash, pin)
