from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class NewPasswordMixin:
    password = PasswordField(
        _l("Nowe hasło (co najmniej 12 znaków)"), validators=[DataRequired(), Length(max=128)]
    )
    repeat = PasswordField(
        _l("Powtórz nowe hasło"),
        validators=[DataRequired(), EqualTo("password", message=_l("Hasła się różnią."))],
    )


class ActivationForm(NewPasswordMixin, FlaskForm):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=80)])
    code = StringField(_l("Kod aktywacyjny ze szkoły"), validators=[DataRequired(), Length(max=32)])


class ForgotForm(FlaskForm):
    identifier = StringField(
        _l("Login albo adres e-mail"), validators=[DataRequired(), Length(max=254)]
    )


class ResetForm(NewPasswordMixin, FlaskForm):
    pass
