"""Contact pages: the office's guardian contacts, a parent's own, and the e-mail link's page.

Thin views (house rule 2): load through `access.py` (404 outside the scope), run one operation
through `perform`, which commits once and shows a refused form again with what was typed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.audit.recording import Actor, Channel
from ediary.contacts.access import (
    load_guardian_for_office,
    office_schools,
    require_guardian,
    require_office,
)
from ediary.contacts.models import ContactKind
from ediary.contacts.operations import (
    Outcome,
    change_contacts,
    on_file_of,
    resend_proof,
    verification_of_link,
    verify_contact,
)
from ediary.contacts.queries import (
    ContactState,
    children_in,
    guardians_of,
    latest,
    states_for,
    states_of,
)
from ediary.db import db
from ediary.errors import Refusal
from ediary.extensions import limiter
from ediary.people.models import User
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("contacts", __name__)
WARSAW = ZoneInfo("Europe/Warsaw")


@bp.app_template_global()
def office_contacts() -> bool:
    """Whether the start page links to guardians' contacts (templates/contacts/home_links.html)."""
    return bool(current_user.is_authenticated and office_schools(current_user))


@bp.app_template_global()
def contact_states() -> dict[str, ContactState]:
    """The signed-in person's contacts, for the notification settings' channel labels."""
    return states_of(current_user.id) if current_user.is_authenticated else {}


@bp.app_template_filter("contact_time")
def contact_time(at: dt.datetime) -> str:
    """When a proof was sent, on the clock in Warsaw."""
    return at.astimezone(WARSAW).strftime("%d.%m.%Y %H:%M")


def _kind() -> ContactKind:
    try:
        return ContactKind(request.form.get("kind", ""))
    except ValueError:
        raise NotFound() from None


def _save_typed(actor: Actor, user: User) -> int:
    """Both fields of the form, with the addresses the page showed (`seen-*`)."""
    return change_contacts(
        actor,
        user,
        {
            kind: (request.form.get(kind.value, ""), request.form.get(f"seen-{kind.value}", ""))
            for kind in ContactKind
        },
    )


def _saved_message(waiting: int) -> str:
    if waiting:
        return str(
            _(
                "Zapisano. Wysłaliśmy potwierdzenie na nowy adres; do czasu potwierdzenia "
                "powiadomienia idą na poprzedni potwierdzony adres."
            )
        )
    return str(_("Zapisano."))


# --- the office ---------------------------------------------------------------------------


@bp.get("/office/contacts")
@login_required
def office_list() -> ResponseReturnValue:
    schools = require_office(current_user)
    guardians = guardians_of(schools)
    ids = [g.id for g in guardians]
    return render_template(
        "contacts/office_list.html",
        guardians=guardians,
        states=states_for(ids),
        children=children_in(ids, schools),
    )


@bp.route("/office/guardians/<int:user_id>/contacts", methods=["GET", "POST"])
@login_required
def office_guardian(user_id: int) -> ResponseReturnValue:
    guardian = load_guardian_for_office(current_user, user_id)
    if request.method == "GET":
        return _office_page(guardian)
    return perform(
        lambda actor: _save_typed(actor, guardian),
        to=url_for("contacts.office_guardian", user_id=guardian.id),
        message=_saved_message,
        refused=lambda refusal: _office_page(guardian, refusal),
    )


@bp.post("/office/guardians/<int:user_id>/contacts/resend")
@login_required
def office_resend(user_id: int) -> ResponseReturnValue:
    guardian = load_guardian_for_office(current_user, user_id)
    kind = _kind()
    return perform(
        lambda actor: resend_proof(actor, guardian, kind),
        to=url_for("contacts.office_guardian", user_id=guardian.id),
        message=_("Wysłano ponownie."),
        refused=lambda refusal: _office_page(guardian, refusal),
    )


def _office_page(guardian: User, refusal: Refusal | None = None) -> str:
    return render_template(
        "contacts/office_guardian.html",
        guardian=guardian,
        children=children_in([guardian.id], office_schools(current_user)).get(guardian.id, []),
        states=states_of(guardian.id),
        typed=_typed(guardian, refusal),
        refusal=refusal,
    )


def _typed(user: User, refusal: Refusal | None) -> dict[str, str]:
    """What the fields show: what was typed after a refusal, else the addresses on file."""
    shown = {}
    for kind in ContactKind:
        if refusal is not None and kind.value in request.form:
            shown[kind.value] = request.form.get(kind.value, "")
            shown[f"seen-{kind.value}"] = request.form.get(f"seen-{kind.value}", "")
        else:
            shown[kind.value] = on_file_of(user, kind) or ""
            shown[f"seen-{kind.value}"] = on_file_of(user, kind) or ""
    if refusal is not None and refusal.code == "contact_changed":
        # The page shows what is on file now, so that saving again is a decision on it.
        for kind in ContactKind:
            shown[f"seen-{kind.value}"] = on_file_of(user, kind) or ""
    return shown


# --- the parent's own ---------------------------------------------------------------------


@bp.route("/portal/contacts", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"])
def mine() -> ResponseReturnValue:
    me = require_guardian(current_user)
    if request.method == "GET":
        return _my_page(me)
    return perform(
        lambda actor: _save_typed(actor, me),
        to=url_for("contacts.mine"),
        message=_saved_message,
        refused=lambda refusal: _my_page(me, refusal),
    )


@bp.post("/portal/contacts/resend")
@login_required
@limiter.limit("30 per hour")
def my_resend() -> ResponseReturnValue:
    me = require_guardian(current_user)
    kind = _kind()
    return perform(
        lambda actor: resend_proof(actor, me, kind),
        to=url_for("contacts.mine"),
        message=_("Wysłano ponownie.")
        if kind is ContactKind.EMAIL
        else _("Wysłano nowy kod SMS. Poprzedni już nie działa."),
        refused=lambda refusal: _my_page(me, refusal),
    )


@bp.post("/portal/contacts/code")
@login_required
@limiter.limit("30 per hour")
def my_code() -> ResponseReturnValue:
    me = require_guardian(current_user)
    row = latest(me.id, ContactKind.PHONE)
    code = request.form.get("code", "")

    def check(actor: Actor) -> Outcome:
        if row is None or row.verified_at is not None:
            raise Refusal("nothing_pending", _("Ten numer jest już potwierdzony."))
        return verify_contact(actor, row, code)

    def wrong(outcome: Outcome) -> ResponseReturnValue | None:
        if outcome is Outcome.VERIFIED:
            return None
        refusal = Refusal("code_wrong", _("Nieprawidłowy kod. Sprawdź SMS i spróbuj ponownie."))
        return _my_page(me, refusal), 400

    return perform(
        check,
        to=url_for("contacts.mine"),
        message=lambda outcome: (
            _("Numer telefonu potwierdzony.") if outcome is Outcome.VERIFIED else ""
        ),
        refused=lambda refusal: _my_page(me, refusal),
        then=wrong,
    )


def _my_page(me: User, refusal: Refusal | None = None) -> str:
    return render_template(
        "contacts/mine.html",
        states=states_of(me.id),
        typed=_typed(me, refusal),
        refusal=refusal,
        code=request.form.get("code", "") if refusal is not None else "",
    )


# --- the e-mail's link: the link is the credential, not a session --------------------------


@bp.route("/contacts/confirm/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def confirm(token: str) -> ResponseReturnValue:
    """GET only shows a button: mail scanners open links, and must not prove an address."""
    found = verification_of_link(token)
    if found is None or found[0].verified_at is not None or found[0].secret_hash is None:
        return render_template("contacts/confirm.html", address=None), 400
    row, nonce = found
    if request.method == "GET":
        return render_template("contacts/confirm.html", address=row.address)
    owner = db.session.get(User, row.user_id)

    def done(outcome: Outcome) -> ResponseReturnValue:
        if outcome is Outcome.VERIFIED:
            return render_template("contacts/confirmed.html", address=row.address)
        return render_template("contacts/confirm.html", address=None), 400

    return perform(
        lambda actor: verify_contact(actor, row, nonce),
        actor=Actor(owner, Channel.WEB),  # the link proves its owner's address: theirs the act
        to=url_for("contacts.confirm", token=token),
        refused=lambda refusal: render_template(
            "contacts/confirm.html", address=None, refusal=refusal
        ),
        then=done,
    )
