"""The lesson roll form: the topic, and one attendance choice per pupil of the roster, each with
what the page showed when it was loaded (the base the roll compares against)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from ediary.schools.models import Pupil


class RollForm(FlaskForm):
    # Length and emptiness are the operation's rules (set_topic refuses with the message people
    # read); checking them here too would be a second rulebook that can drift.
    topic = TextAreaField(_l("Temat lekcji"))
    # The topic the page showed (empty: none).
    base_topic = HiddenField()

    @staticmethod
    def field_name(pupil: Pupil) -> str:
        return f"state-{pupil.id}"

    @staticmethod
    def base_name(pupil: Pupil) -> str:
        return f"base-{pupil.id}"

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

    def bases(self, formdata: Mapping[str, str], pupils: Iterable[Pupil]) -> dict[int, str | None]:
        """Pupil id → the state the page showed when loaded (None: nothing recorded). A pupil
        without the field (a page older than the field) counts as "nothing recorded": the roll
        then refuses to overwrite anything the server has, rather than overwrite in silence."""
        return {pupil.id: formdata.get(self.base_name(pupil)) or None for pupil in pupils}

    def changed(
        self,
        states: Mapping[int, str],
        bases: Mapping[int, str | None],
        default: str | None,
    ) -> dict[int, str]:
        """The pupils whose choice differs from what the page showed (nothing recorded shows the
        default): the roll names only them."""
        return {
            pupil_id: code
            for pupil_id, code in states.items()
            if code != (bases.get(pupil_id) or default)
        }

    def topic_for(self) -> str | None:
        """None leaves the topic alone (unchanged on the page); a cleared topic goes to the
        operation, which refuses it."""
        typed = (self.topic.data or "").strip()
        return None if typed == (self.base_topic.data or "").strip() else typed

    def shown_topic(self) -> str | None:
        return (self.base_topic.data or "").strip() or None
