"""An assessment: one column of a gradebook grid ("sprawdzian: ułamki", 12 March, weight 3).

The grades of a column are ordinary `Grade` rows (ediary/diary) that name it; the column gives
them their category, description and date, so that the kiosk's grades, the web's and the
parents' view stay one thing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base
from ediary.diary.models import GradeCategory


class Assessment(Audited, Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    # The przydział (teacher × class or group × subject) whose grid shows the column.
    assignment_id: Mapped[int] = mapped_column(ForeignKey("teaching_assignments.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("grade_categories.id"))
    description: Mapped[str | None] = mapped_column(String(200))
    given_on: Mapped[dt.date] = mapped_column(Date)
    removed: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    category: Mapped[GradeCategory] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version"})
