"""Where two-factor login sits between the password and the session.

After the right password (or an activation, or a password reset) a person who needs a second
factor is not logged in: the session holds only who is half-way (`PENDING`, for a few minutes)
and they are sent to type a code, or to enrol an authenticator when their role requires one and
they have none yet. Only then does Flask-Login's session start, marked `PASSED`.

A logged-in session that lacks the mark while the person's role requires a second factor (a
session from before the role was given, or before this feature) reaches nothing but the
enrolment page, or goes back to the code page (`guard`, run before every request).
"""

from __future__ import annotations

from flask import request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ediary.db import db, utcnow
from ediary.people.auth import may_log_in
from ediary.people.models import User
from ediary.people.twofactor.operations import enrolled, required_for

PENDING = "second_factor_pending"
PASSED = "second_factor_passed"
PENDING_SECONDS = 300
# What a half-logged-in or not yet enrolled person may still reach.
OPEN_ENDPOINTS = frozenset({"static", "favicon", "people.logout", "people.set_language"})


def second_factor_step(user: User) -> str | None:
    """After a right password: None if `user` may be logged in at once, else where to go next
    (the session then holds the pending state, nobody is logged in)."""
    if enrolled(user):
        endpoint = "twofactor.code"
    elif required_for(user):
        endpoint = "twofactor.enrol"
    else:
        return None
    session.clear()
    session[PENDING] = {
        "user": user.id,
        "version": user.session_version,
        "at": int(utcnow().timestamp()),
    }
    return url_for(endpoint)


def start_session(user: User) -> ResponseReturnValue | None:
    """Logs `user` in after a password was proven, or sends them to the second factor."""
    step = second_factor_step(user)
    if step is not None:
        return Response(status=302, headers={"Location": step})
    session.clear()  # a fresh session (no fixation)
    login_user(user)
    return None


def pending_user() -> User | None:
    """The person half-way through logging in, if still valid (not expired, not disabled, the
    password not changed meanwhile)."""
    data = session.get(PENDING)
    if not isinstance(data, dict):
        return None
    user_id, version, at = data.get("user"), data.get("version"), data.get("at")
    if not isinstance(user_id, int) or not isinstance(at, int):
        return None
    if not 0 <= utcnow().timestamp() - at <= PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not may_log_in(user):
        return None
    return user


def finish(user: User) -> None:
    """The second factor is proven: the real session starts, marked as passed."""
    session.clear()
    login_user(user)
    session[PASSED] = True


def second_factor_missing() -> bool:
    """A logged-in session of a role that needs a second factor, without it (the `/live`
    socket refuses such a session as it refuses an anonymous one)."""
    return bool(
        current_user.is_authenticated and not session.get(PASSED) and required_for(current_user)
    )


def guard() -> ResponseReturnValue | None:
    """Before every request: a logged-in person whose role requires a second factor and whose
    session has not passed one reaches only the enrolment page (or the code page)."""
    if not current_user.is_authenticated or session.get(PASSED):
        return None
    endpoint = request.endpoint or ""
    if endpoint in OPEN_ENDPOINTS or endpoint.startswith("twofactor."):
        return None
    if request.blueprint in ("kiosk_api",):
        return None
    if not required_for(current_user):
        return None
    user: User = current_user
    if enrolled(user):
        logout_user()
        step = second_factor_step(user)
        return Response(status=302, headers={"Location": step or url_for("people.login")})
    return Response(status=302, headers={"Location": url_for("twofactor.settings")})
