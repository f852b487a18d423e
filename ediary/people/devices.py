"""Device cookies (OWASP): a browser that has logged in to an account keeps trying under its own
throttle, so that a stranger's failed attempts on that account do not lock its owner out.

The cookie is signed with the server's secret key (itsdangerous, as Flask's session is) and
maps each account logged in from this browser to a random nonce: the nonce names the browser's
lane in people/throttle.py. It is sent to /login only, and holds no password or session.
"""

from __future__ import annotations

import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE = "ediary_device"
MAX_AGE = 180 * 24 * 3600
KEEP = 5  # accounts remembered per browser (a family's shared computer)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ediary.login-device")


def _known() -> dict[str, str]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:  # forged, from another server, or expired
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def device_nonce(login: str) -> str | None:
    """This browser's nonce for the account, if it has logged in to it before."""
    return _known().get(login)


def remember_device(response: Response, login: str) -> None:
    known = _known()
    nonce = known.pop(login, None) or secrets.token_urlsafe(12)
    known[login] = nonce  # the newest last: the oldest go first when there are too many
    kept = dict(list(known.items())[-KEEP:])
    response.set_cookie(
        COOKIE,
        _serializer().dumps(kept),
        max_age=MAX_AGE,
        path="/login",
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
    )
