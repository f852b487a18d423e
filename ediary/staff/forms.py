"""The staff console's forms (roles are checkboxes read by the view: `role` values)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

LOGIN = r"^[a-z0-9][a-z0-9._-]*$"


class NewStaffForm(FlaskForm):
    first_name = StringField(_l("Imię"), validators=[DataRequired(), Length(max=80)])
    last_name = StringField(_l("Nazwisko"), validators=[DataRequired(), Length(max=80)])
    login = StringField(
        _l("Login"),
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(LOGIN, message=_l("Login: małe litery bez polskich znaków, cyfry, . _ -")),
        ],
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
    )
    email = EmailField(
        _l("E-mail (nieobowiązkowy)"),
        validators=[Optional(), Length(max=254), Email(message=_l("Nieprawidłowy adres e-mail."))],
    )


class ConfirmForm(FlaskForm):
    # A field, not a script's confirm(): the keyboard reaches it like any other.
    confirm = BooleanField(_l("Tak, potwierdzam"), validators=[DataRequired()])
