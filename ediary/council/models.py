"""Behaviour: the other teachers' opinions of a pupil for a term, and the form tutor's grade.

Both are audited: every change leaves a history row (old value, new value, who, when). The last
term's final behaviour grade is the year's, as the year's subject grades live on the last term.
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow
from ediary.enums import enum_column
from ediary.people.models import User


class Behaviour(enum.StrEnum):
    """The six behaviour grades of classes 4-8, best first (the order matters: distinction)."""

    EXEMPLARY = "wzorowe"
    VERY_GOOD = "bardzo_dobre"
    GOOD = "dobre"
    CORRECT = "poprawne"
    UNSATISFACTORY = "nieodpowiednie"
    REPREHENSIBLE = "naganne"

    @property
    def label(self) -> str:
        return str(BEHAVIOUR_NAMES[self])

    @property
    def rank(self) -> int:
        """0 for wzorowe … 5 for naganne."""
        return list(Behaviour).index(self)


BEHAVIOUR_NAMES = {
    Behaviour.EXEMPLARY: _l("wzorowe"),
    Behaviour.VERY_GOOD: _l("bardzo dobre"),
    Behaviour.GOOD: _l("dobre"),
    Behaviour.CORRECT: _l("poprawne"),
    Behaviour.UNSATISFACTORY: _l("nieodpowiednie"),
    Behaviour.REPREHENSIBLE: _l("naganne"),
}


class BehaviourKind(enum.StrEnum):
    PROPOSED = "proposed"  # przewidywana: parents learn of it before the council
    FINAL = "final"  # śródroczna (roczna on the last term), approved by the council


class BehaviourOpinion(Audited, Base):
    """A teacher's opinion of a pupil's behaviour in a term: a suggested grade and a short text,
    for the form tutor. One per teacher, pupil and term; a new one replaces it (history kept)."""

    __tablename__ = "behaviour_opinions"
    __table_args__ = (UniqueConstraint("term_id", "pupil_id", "teacher_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    value: Mapped[Behaviour] = mapped_column(enum_column(Behaviour))
    text: Mapped[str] = mapped_column(String(500), default="")
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    teacher: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version", "written_at"})


class BehaviourGrade(Audited, Base):
    """The form tutor's proposed or final behaviour grade of a pupil for a term. Who set it and
    when is the history's; a correction after the council (the director's) carries its reason."""

    __tablename__ = "behaviour_grades"
    __table_args__ = (UniqueConstraint("term_id", "pupil_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    kind: Mapped[BehaviourKind] = mapped_column(enum_column(BehaviourKind))
    value: Mapped[Behaviour] = mapped_column(enum_column(Behaviour))
    correction_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version"})
