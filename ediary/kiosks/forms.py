"""The school administrator's forms on the fleet page: an enrollment code, revoke, move."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField


class CodeForm(FlaskForm):
    """Nothing to fill: a one-time code for this kiosk (the form's CSRF token and `form_token`)."""


class RevokeForm(FlaskForm):
    # The teacher at the screen loses it at once: the person says so first (a field, not a
    # script's confirm(): the keyboard reaches it like any other).
    confirm = BooleanField(_l("Tak, odłącz ten komputer"))


class MoveForm(FlaskForm):
    # Choices are the school's free rooms, read by the page; the view checks what is sent.
    room = SelectField(_l("Nowa sala"), choices=[], validate_choice=False)
    # The room the page showed: a move made meanwhile by someone else is a conflict.
    seen_room = HiddenField()
