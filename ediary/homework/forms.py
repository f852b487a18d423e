"""The teacher's form: what is announced, for which lesson, and the confirmation of a limit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ediary.homework.models import MAX_DESCRIPTION, HomeworkKind

KIND_NAMES = {
    HomeworkKind.TEST: _l("Sprawdzian"),
    HomeworkKind.QUIZ: _l("Kartkówka"),
    HomeworkKind.HOMEWORK: _l("Zadanie domowe"),
}


class HomeworkForm(FlaskForm):
    # The operation checks the description's length and the dates (a refusal keeps the input).
    kind = RadioField(
        _l("Rodzaj"),
        choices=[SelectChoice(k.value, str(name)) for k, name in KIND_NAMES.items()],
        default="test",
    )
    lesson = SelectField(_l("Lekcja"), validate_choice=False)
    description = TextAreaField(
        _l("Zakres materiału lub treść zadania"), render_kw={"maxlength": MAX_DESCRIPTION + 100}
    )
    due_date = DateField(_l("Termin oddania (zadanie domowe)"), validators=[Optional()])
    # Shown with the statute's warning: saving anyway is the teacher's explicit decision.
    confirm = BooleanField(_l("Wiem o limicie, zapisz mimo to"))
    version = HiddenField()


class WithdrawForm(FlaskForm):
    version = HiddenField()
