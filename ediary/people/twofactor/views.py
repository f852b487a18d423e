"""The second step of logging in (a code from the app or a recovery code), enrolling an
authenticator, and a person's own settings of two-factor login.

Wrong codes are throttled like passwords (people/throttle.py), in a lane of their own per
account: a stranger who knows the password still gets growing delays, and the person's password
lanes are not touched."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.documents.qr import qr_svg
from ediary.errors import Refusal
from ediary.office.navigation import office_start
from ediary.people.models import User
from ediary.people.throttle import Attempt, Throttled, attempt_succeeded, begin_attempt
from ediary.people.twofactor.forms import CodeForm
from ediary.people.twofactor.gate import PASSED, finish, pending_user
from ediary.people.twofactor.operations import (
    authenticator_of,
    check_second_factor,
    confirm_authenticator,
    enrolled,
    new_recovery_codes,
    offer_authenticator,
    otpauth_uri,
    recovery_codes_left,
    required_for,
    switch_off,
)
from ediary.web.auth import login_required

bp = Blueprint("twofactor", __name__)

LANE = "second-factor"
R = TypeVar("R")


def _throttled(user: User, check: Callable[[Actor], R]) -> R | Refusal:
    """Runs `check` as a counted attempt: the attempt is written down (and committed) first, as
    for passwords; a right code forgets the lane's failures. Returns the result or the refusal
    (a `Throttled` one when the person must wait)."""
    nobody = Actor(None, Channel.WEB)
    attempt = Attempt(user.login, LANE, request.remote_addr)
    try:
        attempt = begin_attempt(nobody, attempt, utcnow())
    except Throttled as throttled:
        db.session.rollback()
        return throttled
    db.session.commit()
    try:
        result = check(Actor(user, Channel.WEB))
    except Refusal as refusal:
        db.session.rollback()
        return refusal
    attempt_succeeded(nobody, attempt)
    db.session.commit()
    return result


def _refused(template: str, refusal: Refusal, **context: object) -> ResponseReturnValue:
    page = make_response(render_template(template, refusal=refusal, **context), refusal.status)
    retry = getattr(refusal, "retry_after", None)
    if retry is not None:
        page.headers["Retry-After"] = str(retry)
    return page


def _expired() -> ResponseReturnValue:
    flash(_("Zaloguj się ponownie: minęło zbyt dużo czasu."), "error")
    return redirect(url_for("people.login"))


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> ResponseReturnValue:
    user = pending_user()
    if user is None or not enrolled(user):
        return _expired()
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template(
            "twofactor/code.html", form=form
        ), 400 if form.is_submitted() else 200
    checked = _throttled(
        user, lambda actor: check_second_factor(actor, user, form.code.data or "", utcnow())
    )
    if isinstance(checked, Refusal):
        return _refused("twofactor/code.html", checked, form=form)
    finish(user)
    if checked == "recovery":
        left = recovery_codes_left(user)
        flash(_("Użyto kodu zapasowego. Zostało kodów: %(n)s.", n=left), "info")
    # Where the password alone would have led: a secretary's office (issue 13), else home.
    return redirect(office_start(user) or url_for("people.home"))


def _enrol_page(user: User, form: CodeForm, refusal: Refusal | None = None) -> str:
    found = authenticator_of(user)
    assert found is not None
    uri = otpauth_uri(user, found.secret)
    secret = " ".join(found.secret[i : i + 4] for i in range(0, len(found.secret), 4))
    return render_template(
        "twofactor/enrol.html",
        form=form,
        qr=qr_svg(uri),
        secret=secret,
        required=required_for(user),
        refusal=refusal,
    )


def _enrol(user: User, finish_login: bool) -> ResponseReturnValue:
    form = CodeForm()
    offer_authenticator(Actor(user, Channel.WEB), user)  # the same secret until confirmed
    db.session.commit()
    if not form.validate_on_submit():
        return _enrol_page(user, form), 400 if form.is_submitted() else 200
    codes = _throttled(
        user, lambda actor: confirm_authenticator(actor, user, form.code.data or "", utcnow())
    )
    if isinstance(codes, Refusal):
        return _enrol_page(user, form, codes), codes.status
    if finish_login:
        finish(user)
    else:
        from flask import session

        session[PASSED] = True
    onward = office_start(user) or url_for("people.home")
    return render_template("twofactor/recovery.html", codes=codes, onward=onward)


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    """Required roles enrol right after the password, before anything else opens."""
    user = pending_user()
    if user is None or enrolled(user):
        return _expired()
    return _enrol(user, finish_login=True)


@bp.route("/account/twofactor", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    """A person's own two-factor login: enrol (teachers may, required roles must), new
    recovery codes, switch off (teachers only)."""
    user = _staff()
    if not enrolled(user):
        return _enrol(user, finish_login=False)
    return render_template(
        "twofactor/settings.html",
        form=CodeForm(),
        left=recovery_codes_left(user),
        required=required_for(user),
    )


def _staff() -> User:
    """The web's two-factor login is the staff's (parents have none yet): 404 for others."""
    user: User = current_user
    if not user.memberships:
        raise NotFound()
    return user


def _with_code(then: Callable[[Actor], R]) -> R | Refusal:
    user: User = current_user
    form = CodeForm()
    if not form.validate_on_submit():
        return Refusal("code_missing", _("Wpisz kod z aplikacji."))

    def check(actor: Actor) -> R:
        check_second_factor(actor, user, form.code.data or "", utcnow())
        return then(actor)

    return _throttled(user, check)


def _settings_refused(refusal: Refusal) -> ResponseReturnValue:
    user: User = current_user
    return _refused(
        "twofactor/settings.html",
        refusal,
        form=CodeForm(),
        left=recovery_codes_left(user),
        required=required_for(user),
    )


@bp.post("/account/twofactor/recovery")
@login_required
def recovery() -> ResponseReturnValue:
    user = _staff()
    if not enrolled(user):
        return redirect(url_for("twofactor.settings"))
    codes = _with_code(lambda actor: new_recovery_codes(actor, user))
    if isinstance(codes, Refusal):
        return _settings_refused(codes)
    onward = office_start(user) or url_for("people.home")
    return render_template("twofactor/recovery.html", codes=codes, onward=onward)


@bp.post("/account/twofactor/off")
@login_required
def off() -> ResponseReturnValue:
    user = _staff()
    if not enrolled(user):
        return redirect(url_for("twofactor.settings"))
    done = _with_code(lambda actor: switch_off(actor, user))
    if isinstance(done, Refusal):
        return _settings_refused(done)
    flash(_("Logowanie dwuskładnikowe zostało wyłączone."), "info")
    return redirect(url_for("twofactor.settings"))
