"""Classification records besides the grades themselves (which are `Grade` rows, values.py):
a guardian's acknowledgement of the proposed grades, and a director's correction of a final
grade after the council, with its reason."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow
from ediary.diary.models import GradeKind
from ediary.enums import enum_column


class ProposalAcknowledgement(Audited, Base):
    """ "Zapoznałem się / Zapoznałam się": a guardian read the child's proposed grades of a term
    (`kind` PROPOSED_TERM) or of the year (PROPOSED_YEAR, on the last term). One row per guardian,
    pupil, term and kind: a second press changes nothing. The form tutor sees the time."""

    __tablename__ = "proposal_acknowledgements"
    __table_args__ = (UniqueConstraint("guardian_id", "pupil_id", "term_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    kind: Mapped[GradeKind] = mapped_column(enum_column(GradeKind))
    acknowledged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GradeCorrection(Audited, Base):
    """The director's correction of a final grade after the council (the grade's row changes as
    any correction does, its history keeping the old value; this row keeps who and why)."""

    __tablename__ = "grade_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    grade_id: Mapped[int] = mapped_column(ForeignKey("grades.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    director_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500))
    corrected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
