"""What teachers record: attendance, grades, remarks. Corrections never erase (see audit)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow
from ediary.enums import enum_column
from ediary.people.models import User
from ediary.schools.models import Subject


class Presence(enum.StrEnum):
    """How an attendance type counts in the attendance percentage."""

    PRESENT = "present"
    ABSENT = "absent"


class AttendanceType(Audited, Base):
    """One of the seven Polish states, or a school's own; the school may rename or add types."""

    __tablename__ = "attendance_types"
    __table_args__ = (UniqueConstraint("school_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    code: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(60))
    counts_as: Mapped[Presence] = mapped_column(enum_column(Presence))
    excused: Mapped[bool] = mapped_column(default=False)
    # Order of the one-tap cycle at the kiosk: the common states first.
    position: Mapped[int] = mapped_column(default=0)


class Attendance(Audited, Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("lesson_id", "pupil_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("attendance_types.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    type: Mapped[AttendanceType] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version", "recorded_at"})


class GradeCategory(Audited, Base):
    """e.g. sprawdzian (weight 3), kartkówka (2), odpowiedź (1): per school, from its statute."""

    __tablename__ = "grade_categories"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    weight: Mapped[int] = mapped_column(default=1)
    counts_to_average: Mapped[bool] = mapped_column(default=True)


class GradeKind(enum.StrEnum):
    ONGOING = "ongoing"  # ocena bieżąca
    PROPOSED_TERM = "proposed_term"  # ocena przewidywana śródroczna
    TERM = "term"  # ocena śródroczna
    PROPOSED_YEAR = "proposed_year"
    YEAR = "year"  # ocena roczna


class Grade(Audited, Base):
    """A grade or a mark. `value` is canonical text: "1".."6" with "+"/"-" for ongoing grades,
    or one of the marks that count in no average ("np", "bz", "+", "-"); a descriptive grade
    (grades 1-3 of primary school) has `descriptive` text instead."""

    __tablename__ = "grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"))
    kind: Mapped[GradeKind] = mapped_column(enum_column(GradeKind), default=GradeKind.ONGOING)
    value: Mapped[str | None] = mapped_column(String(4))
    descriptive: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("grade_categories.id"))
    description: Mapped[str | None] = mapped_column(String(200))
    given_on: Mapped[dt.date] = mapped_column(Date)
    # A poprawa: this grade improves an earlier one; both stay visible.
    improves_id: Mapped[int | None] = mapped_column(ForeignKey("grades.id"))
    # The gradebook column (ediary/gradebook) the grade was entered in; none from the kiosk.
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    removed: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    category: Mapped[GradeCategory | None] = relationship(lazy="joined")
    subject: Mapped[Subject] = relationship()
    teacher: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version"})


class RemarkKind(enum.StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


class Remark(Audited, Base):
    __tablename__ = "remarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"))
    kind: Mapped[RemarkKind] = mapped_column(enum_column(RemarkKind))
    text: Mapped[str] = mapped_column(Text)
    given_on: Mapped[dt.date] = mapped_column(Date)
    removed: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    teacher: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version"})
