"""The school administrator's form on a lesson page: cancel it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField


class CancelLessonForm(FlaskForm):
    # What the page showed: a lesson changed meanwhile (a substitution) is not cancelled unseen.
    version = HiddenField()
    # Parents see a cancellation at once and no page undoes it: the person says so first. A
    # field, not a script's confirm(): the site's policy runs no inline script, and a keyboard
    # reaches it like any other (Tab, Space, Enter).
    confirm = BooleanField(_l("Tak, odwołaj tę lekcję"))
