"""A parent's notification settings (in-page pushes are always on; e-mail and SMS by choice)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from ediary.audit.recording import Actor
from ediary.audit.recording import Channel as AuditChannel
from ediary.db import db
from ediary.errors import Refusal
from ediary.notifications.models import Channel, Topic
from ediary.notifications.operations import preference_of, save_preferences
from ediary.portal.queries import children_of

bp = Blueprint("notifications", __name__)


def _time(name: str, default: dt.time) -> dt.time:
    raw = request.form.get(name, "")
    try:
        return dt.time.fromisoformat(raw) if raw else default
    except ValueError:
        raise Refusal("time_invalid", _("Nieprawidłowa godzina.")) from None


@bp.route("/portal/settings", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    children = children_of(current_user)
    if not children:
        raise NotFound()  # the settings are a parent's: staff have no portal
    preference = preference_of(current_user)
    status = 200
    if request.method == "POST":
        try:
            save_preferences(
                Actor(current_user, AuditChannel.WEB),
                current_user,
                channels={c for c in Channel if request.form.get(f"channel-{c.value}")},
                topics={t for t in Topic if request.form.get(f"topic-{t.value}")},
                digest=bool(request.form.get("digest")),
                quiet_from=_time("quiet_from", preference.quiet_from),
                quiet_until=_time("quiet_until", preference.quiet_until),
            )
        except Refusal as refusal:
            db.session.rollback()
            flash(str(refusal.message), "error")
            status = 400
        else:
            db.session.commit()
            flash(_("Zapisano ustawienia powiadomień."), "info")
            return redirect(url_for("notifications.settings"))
    return (
        render_template(
            "portal/settings.html",
            children=children,
            preference=preference,
            topics=Topic,
        ),
        status,
    )
