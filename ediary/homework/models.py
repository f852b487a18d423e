"""An announcement: a test or homework for a lesson of the teacher's, seen by its parents."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base
from ediary.enums import enum_column
from ediary.schools.models import ClassGroup, SchoolClass, Subject
from ediary.timetable.models import Lesson

MAX_DESCRIPTION = 1000


class HomeworkKind(enum.StrEnum):
    TEST = "test"  # sprawdzian: counted by the statute's limits
    QUIZ = "quiz"  # kartkówka: not counted
    HOMEWORK = "homework"  # zadanie domowe: has a due date


class Homework(Audited, Base):
    """A test or homework announced for `lesson` (its class or group, subject and date). Changes
    and the withdrawal are versioned; the history keeps every old value (`Audited`)."""

    __tablename__ = "homework"
    __table_args__ = (Index("ix_homework_class_date", "class_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("class_groups.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[HomeworkKind] = mapped_column(enum_column(HomeworkKind))
    date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    withdrawn: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    lesson: Mapped[Lesson] = relationship()
    school_class: Mapped[SchoolClass] = relationship()
    group: Mapped[ClassGroup | None] = relationship()
    subject: Mapped[Subject] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version"})
