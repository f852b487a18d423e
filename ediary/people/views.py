"""Logging in and out, and the home page that sends each role where it works."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.extensions import limiter
from ediary.people.auth import authenticate
from ediary.people.forms import LoginForm
from ediary.people.operations import end_sessions
from ediary.people.queries import home_links

bp = Blueprint("people", __name__)


def _login_key() -> str:
    return "login:" + (request.form.get("login") or "").strip().lower()[:80]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_login_key)
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.login.data or "", form.password.data or "")
        if user is not None:
            session.clear()  # a fresh session at login (no fixation)
            login_user(user)
            # A parent's home is the portal (issue 5); staff (also a parent on staff) get theirs.
            if not user.memberships and home_links(user).children:
                return redirect(url_for("portal.index"))
            return redirect(url_for("people.home"))
        flash(_("Nieprawidłowy login lub hasło."), "error")
    return render_template("people/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Logout ends every session of the account, on this device and elsewhere."""
    end_sessions(Actor(current_user, Channel.WEB), current_user)
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("people.login"))


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    return render_template("people/home.html", links=home_links(current_user))


def local_path(target: str) -> str | None:
    r"""`target` if it is a path of this site, else None: the open-redirect guard.

    What a browser makes of a Location decides, not what the string looks like: it drops tabs
    and newlines anywhere in a URL and reads a backslash as a slash, so `/\t/evil.example` and
    `/\evil.example` both go to //evil.example. Any control character (CR/LF would also split
    the header) or backslash refuses the target; what is left must be a path with no scheme and
    no host to urllib, and not start with `//` (a host to a browser).
    """
    if any(unicodedata.category(c) == "Cc" for c in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@bp.app_template_global()
def language_next() -> str:
    """The page the language switch returns to: this one, unless its path could lead off site
    (a crafted link's 404 page would otherwise carry it into the switch's form)."""
    here = request.full_path if request.query_string else request.path
    return local_path(here) or url_for("people.home")


LANGUAGES = ("pl", "en")
LANG_COOKIE_SECONDS = 365 * 24 * 3600


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    """Polish or English, kept in a cookie (a language choice is not personal data).

    `next` is the page the switch was pressed on; only a path of this site is followed.
    """
    chosen = request.form.get("lang", "")
    response = redirect(local_path(request.form.get("next", "")) or url_for("people.home"))
    if chosen in LANGUAGES:
        response.set_cookie(
            "lang",
            chosen,
            max_age=LANG_COOKIE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        )
    return response
