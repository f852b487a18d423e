"""Announcements over the web: the director's (the school) and the form tutor's (the class),
their author's list, edits and withdrawal; and what the start pages show of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.messages import access
from ediary.messages.hours import WARSAW
from ediary.messages.models import Announcement
from ediary.messages.operations import (
    edit_announcement,
    publish_announcement,
    withdraw_announcement,
)
from ediary.messages.queries import (
    announcements_by,
    current_announcements_for_pupil,
    current_announcements_for_staff,
)
from ediary.schools.models import Pupil
from ediary.web.auth import login_required
from ediary.web.pages import perform


def _(message: str, /, **values: Any) -> str:
    return str(gettext(message, **values))


bp = Blueprint("announcements", __name__)


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _today() -> dt.date:
    return dt.datetime.now(WARSAW).date()


@bp.route("/announcements", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    audiences = access.announcement_audiences(current_user)
    if not audiences:
        raise NotFound()
    if request.method == "GET":
        return _announcements_page(audiences)
    index_ = parse_id(request.form.get("audience", ""))
    if index_ is None or index_ > len(audiences):
        raise NotFound()
    chosen = audiences[index_ - 1]
    return perform(
        lambda actor: publish_announcement(
            actor,
            school_id=chosen.school_id,
            class_id=chosen.class_id,
            title=request.form.get("title", ""),
            body=request.form.get("body", ""),
            expires_on=_date(request.form.get("expires_on", "")),
            today=_today(),
        ),
        to=url_for("announcements.index"),
        message=_("Ogłoszenie opublikowane."),
        refused=lambda refusal: _announcements_page(audiences, refusal),
    )


def _announcements_page(audiences: list[access.Audience], refusal: Refusal | None = None) -> str:
    kept = request.form if refusal is not None else None
    return render_template(
        "messages/announcements.html",
        audiences=audiences,
        mine=announcements_by(current_user),
        refusal=refusal,
        kept=kept,
        today=_today(),
    )


@bp.route("/announcements/<int:announcement_id>", methods=["GET", "POST"])
@login_required
def edit(announcement_id: int) -> ResponseReturnValue:
    found = access.load_own_announcement(current_user, announcement_id)
    if request.method == "GET":
        return _announcement_page(found)
    base = parse_id(request.form.get("version", "")) or 0
    if request.form.get("withdraw"):
        return perform(
            lambda actor: withdraw_announcement(actor, found, base_version=base),
            to=url_for("announcements.index"),
            message=_("Ogłoszenie wycofane."),
            refused=lambda refusal: _announcement_page(found, refusal),
        )
    return perform(
        lambda actor: edit_announcement(
            actor,
            found,
            title=request.form.get("title", ""),
            body=request.form.get("body", ""),
            expires_on=_date(request.form.get("expires_on", "")),
            today=_today(),
            base_version=base,
        ),
        to=url_for("announcements.index"),
        message=_("Ogłoszenie poprawione."),
        refused=lambda refusal: _announcement_page(found, refusal),
    )


def _announcement_page(found: Announcement, refusal: Refusal | None = None) -> str:
    return render_template(
        "messages/announcement.html",
        announcement=found,
        refusal=refusal,
        kept=request.form if refusal is not None else None,
    )


# --- what the start pages show (template globals) ----------------------------------------------


@bp.app_template_global()
def announcements_for(pupil: Pupil | None = None) -> list[Announcement]:
    """Current announcements: of a parent's child (its school and class), else the staff's."""
    if pupil is not None:
        return current_announcements_for_pupil(pupil, _today())
    if not current_user.is_authenticated:
        return []
    return current_announcements_for_staff(current_user, _today())


@bp.app_template_global()
def may_announce() -> bool:
    return current_user.is_authenticated and bool(access.announcement_audiences(current_user))
