"""Logging in and out, and the home page that sends each role where it works."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.office.navigation import office_start
from ediary.people.auth import authenticate
from ediary.people.devices import device_nonce, remember_device
from ediary.people.forms import LoginForm
from ediary.people.models import User
from ediary.people.operations import end_sessions
from ediary.people.queries import home_links
from ediary.people.throttle import (
    UNKNOWN_BROWSER,
    Attempt,
    Throttled,
    attempt_succeeded,
    begin_attempt,
    device_lane,
)
from ediary.people.twofactor.gate import second_factor_step
from ediary.web.auth import login_required
from ediary.web.pages import local_path, perform

bp = Blueprint("people", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Throttled per account (people/throttle.py), never per address for successful logins.

    Several commits, where views usually have one: the attempt is written down before the
    password is checked, so that parallel attempts in other processes count it meanwhile."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("people/login.html", form=form), 401 if form.is_submitted() else 200
    name = (form.login.data or "").strip().lower()
    nonce = device_nonce(name)
    lane = device_lane(nonce) if nonce else UNKNOWN_BROWSER
    actor = Actor(None, Channel.WEB)
    try:
        attempt = begin_attempt(actor, Attempt(name, lane, request.remote_addr), utcnow())
    except Throttled as throttled:
        db.session.rollback()
        flash(str(throttled.message), "error")
        page = make_response(render_template("people/login.html", form=form), 429)
        if throttled.retry_after is not None:
            page.headers["Retry-After"] = str(throttled.retry_after)
        return page
    db.session.commit()
    user = authenticate(name, form.password.data or "")
    # Ends the read around the hash: on SQLite a write after it would find the snapshot stale
    # if another process committed meanwhile ("database is locked"). Nothing is pending.
    db.session.commit()
    if user is None:
        flash(_("Nieprawidłowy login lub hasło."), "error")
        return render_template("people/login.html", form=form), 401
    attempt_succeeded(actor, attempt)
    db.session.commit()
    second = second_factor_step(user)  # staff with two-factor login: a code first
    if second is not None:
        response = redirect(second)
        remember_device(response, name)
        return response
    session.clear()  # a fresh session at login (no fixation)
    login_user(user)
    # A parent's home is the portal (issue 5); staff (also a parent on staff) get theirs.
    home = "portal.index" if not user.memberships and home_links(user).children else "people.home"
    response = redirect(office_start(user) or url_for(home))
    remember_device(response, name)
    return response


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Logout ends every session of the account, on this device and elsewhere."""
    return perform(
        lambda actor: end_sessions(actor, current_user),
        to=url_for("people.login"),
        refused=None,
        then=_forget_this_session,
    )


def _forget_this_session(_user: User) -> None:
    logout_user()
    session.clear()


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    return render_template("people/home.html", links=home_links(current_user))


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
