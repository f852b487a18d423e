"""A parent's notification settings (in-page pushes are always on; e-mail and SMS by choice)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.audit.recording import Actor
from ediary.errors import Refusal
from ediary.notifications.models import Channel, Topic
from ediary.notifications.operations import preference_of, save_preferences
from ediary.portal.queries import children_of
from ediary.schools.models import Pupil
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("notifications", __name__)


# Quiet hours from a time to the same time are none (the sender holds nothing back then).
NO_QUIET_HOURS = (dt.time(0), dt.time(0))


def _time(raw: str) -> dt.time:
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        raise Refusal("time_invalid", _("Nieprawidłowa godzina.")) from None


def _quiet_hours() -> tuple[dt.time, dt.time]:
    """Both times, or both fields emptied: a parent who clears them wants no quiet hours (the
    page then says so). One without the other cannot be guessed at, so it is asked again."""
    start = request.form.get("quiet_from", "").strip()
    end = request.form.get("quiet_until", "").strip()
    if not start and not end:
        return NO_QUIET_HOURS
    if not start or not end:
        raise Refusal(
            "quiet_hours_incomplete",
            _(
                "Podaj obie godziny ciszy nocnej albo wyczyść oba pola, "
                "jeśli nie chcesz ciszy nocnej."
            ),
        )
    return _time(start), _time(end)


def _as_submitted() -> SimpleNamespace:
    """What the parent sent, shown again on a refused form (nothing of it was saved)."""
    form = request.form
    return SimpleNamespace(
        email=bool(form.get(f"channel-{Channel.EMAIL.value}")),
        sms=bool(form.get(f"channel-{Channel.SMS.value}")),
        digest=bool(form.get("digest")),
        **{t.value: bool(form.get(f"topic-{t.value}")) for t in Topic},
    )


@bp.route("/portal/settings", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    children = children_of(current_user)
    if not children:
        raise NotFound()  # the settings are a parent's: staff have no portal
    if request.method == "GET":
        return _page(children)

    def save(actor: Actor) -> None:
        quiet_from, quiet_until = _quiet_hours()
        save_preferences(
            actor,
            current_user,
            channels={c for c in Channel if request.form.get(f"channel-{c.value}")},
            topics={t for t in Topic if request.form.get(f"topic-{t.value}")},
            digest=bool(request.form.get("digest")),
            quiet_from=quiet_from,
            quiet_until=quiet_until,
        )

    return perform(
        save,
        to=url_for("notifications.settings"),
        message=_("Zapisano ustawienia powiadomień."),
        refused=lambda refusal: _page(children, refusal),
    )


def _page(children: list[Pupil], refusal: Refusal | None = None) -> str:
    """The saved settings; after a refusal, what the parent sent (nothing of it was saved)."""
    if refusal is not None:
        shown = {
            "preference": _as_submitted(),
            "quiet_from": request.form.get("quiet_from", ""),
            "quiet_until": request.form.get("quiet_until", ""),
        }
    else:
        preference = preference_of(current_user)
        quiet = None if preference.quiet_from == preference.quiet_until else preference
        shown = {
            "preference": preference,
            "quiet_from": quiet.quiet_from.strftime("%H:%M") if quiet else "",
            "quiet_until": quiet.quiet_until.strftime("%H:%M") if quiet else "",
        }
    return render_template(
        "portal/settings.html", children=children, topics=Topic, refusal=refusal, **shown
    )
