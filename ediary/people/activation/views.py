"""Activating a parent's account, and resetting a forgotten password (school code or e-mail).

Every failure gets one answer (no "no such user"); each form is throttled per address and, where
it names an account, per account. A successful activation or reset ends every other session of
the account (the password change bumps its session version) and logs this one in.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.extensions import limiter
from ediary.notifications.operations import queue_reset_email
from ediary.people.activation.forms import ActivationForm, ForgotForm, ResetForm
from ediary.people.activation.operations import (
    CODE_INVALID,
    RESET_MINUTES,
    account_of_code,
    activate_account,
    reset_password,
    reset_token,
    user_of_reset_token,
    users_for_reset,
)
from ediary.people.models import User
from ediary.people.twofactor.gate import start_session
from ediary.web.pages import perform

bp = Blueprint("activation", __name__)


def _account_key() -> str:
    return "activate:" + (request.form.get("login") or "").strip().lower()[:80]


def _identifier_key() -> str:
    return "forgot:" + (request.form.get("identifier") or "").strip().lower()[:254]


def _start_session(user: User) -> ResponseReturnValue | None:
    """After the commit: a fresh session (no fixation), before the welcome is flashed into it;
    staff with two-factor login are sent to its step first (people/twofactor/gate.py)."""
    return start_session(user)


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_account_key)
def activate() -> ResponseReturnValue:
    form = ActivationForm()
    if request.method == "GET" and not form.login.data:
        form.login.data = request.args.get("login", "")[:80]  # the letter's QR code fills it in
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("people/activate.html", form=form), status

    def activate_found(_nobody: Actor) -> User:
        # Nobody is signed in: the actor is the account the code opens, once it is found.
        now = utcnow()
        found = account_of_code(form.login.data or "", form.code.data or "", now)
        if found is None:
            raise Refusal("code_invalid", CODE_INVALID)
        user, code = found
        activate_account(
            Actor(user, Channel.WEB), user, code, password=form.password.data or "", now=now
        )
        return user

    return perform(
        activate_found,
        to=url_for("portal.index"),
        message=_("Konto jest aktywne. Witamy w dzienniku!"),
        refused=lambda refusal: render_template("people/activate.html", form=form, refusal=refusal),
        then=_start_session,
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_identifier_key)
def forgot() -> ResponseReturnValue:
    """Always the same answer: whether an account or an address exists is not disclosed."""
    form = ForgotForm()
    if form.validate_on_submit():
        base = current_app.config["PUBLIC_URL"].rstrip("/")
        for user in users_for_reset(form.identifier.data or ""):
            link = base + url_for("activation.reset", token=reset_token(user))
            queue_reset_email(user, link, RESET_MINUTES)
        db.session.commit()
        flash(
            _(
                "Jeśli to konto ma zapisany adres e-mail, wysłaliśmy na niego link do zmiany "
                "hasła. Nie masz adresu w szkole? Poproś sekretariat o nowy kod aktywacyjny."
            ),
            "info",
        )
        return redirect(url_for("activation.forgot"))
    return render_template("people/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def reset(token: str) -> ResponseReturnValue:
    owner = user_of_reset_token(token)
    if owner is None:
        return render_template(
            "people/reset.html",
            form=None,
            message=_("Link do zmiany hasła jest nieprawidłowy, wygasł albo został już użyty."),
        ), 400
    form = ResetForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("people/reset.html", form=form, message=None), status
    return perform(
        lambda actor: reset_password(actor, token, form.password.data or ""),
        to=url_for("portal.index"),
        message=_("Hasło zostało zmienione."),
        refused=lambda refusal: render_template(
            "people/reset.html", form=form, message=None, refusal=refusal
        ),
        then=_start_session,
        actor=Actor(owner, Channel.WEB),
    )
