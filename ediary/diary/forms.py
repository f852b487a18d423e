"""The lesson roll form: the topic, and one attendance choice per pupil of the roster."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from ediary.schools.models import Pupil


class RollForm(FlaskForm):
    # Length and emptiness are the operation's rules (set_topic refuses with the message people
    # read); checking them here too would be a second rulebook that can drift.
    topic = TextAreaField(_l("Temat lekcji"))

    @staticmethod
    def field_name(pupil: Pupil) -> str:
        return f"state-{pupil.id}"

    def states(self, formdata: Mapping[str, str], pupils: Iterable[Pupil]) -> dict[int, str]:
        """Pupil id → the attendance code chosen; pupils without a choice keep what they have.

        The per-pupil selects are not WTForms fields because the roster is data: a field class
        per lesson would be built at request time for no gain. Codes are checked by the operation.
        """
        return {
            pupil.id: formdata[self.field_name(pupil)]
            for pupil in pupils
            if self.field_name(pupil) in formdata
        }

    def topic_for(self, current: str | None) -> str | None:
        """None leaves the topic alone; a cleared topic goes to the operation, which refuses it."""
        typed = (self.topic.data or "").strip()
        return typed if typed or current else None
