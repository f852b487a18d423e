"""The one field of every two-factor form: a code from the app, or a recovery code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class CodeForm(FlaskForm):
    code = StringField(
        _l("Kod z aplikacji (6 cyfr) albo kod zapasowy"),
        validators=[DataRequired(), Length(max=20)],
    )
