"""Bell schedule, teaching assignments, the weekly timetable and lessons on dates."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow
from ediary.enums import enum_column
from ediary.schools.models import ClassGroup, Room, SchoolClass, Subject


class BellSlot(Audited, Base):
    """Lesson number n of the day with its local start and end time."""

    __tablename__ = "bell_slots"
    __table_args__ = (UniqueConstraint("school_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    number: Mapped[int]
    starts_at: Mapped[dt.time] = mapped_column(Time)
    ends_at: Mapped[dt.time] = mapped_column(Time)


class TeachingAssignment(Audited, Base):
    """A przydział: this teacher teaches this subject to this class (or group of it)."""

    __tablename__ = "teaching_assignments"
    __table_args__ = (UniqueConstraint("teacher_id", "class_id", "group_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("class_groups.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    # Hours a week in the plan (the przydział's "wymiar"): the grid warns when a teacher's
    # placed lessons of this assignment exceed it.
    weekly_hours: Mapped[int] = mapped_column(default=1, server_default="1")


class TimetableEntry(Audited, Base):
    """A weekly slot: on this weekday, in this bell slot, this assignment in this room, from
    `valid_from` to `valid_to`. A change of the plan from a date closes the old entry the day
    before and opens a new one: lessons already made keep pointing at the entry they came from."""

    __tablename__ = "timetable_entries"
    __table_args__ = (UniqueConstraint("assignment_id", "weekday", "slot_number", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("teaching_assignments.id"), index=True)
    weekday: Mapped[int]  # 0 = Monday (date.weekday())
    slot_number: Mapped[int]
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)

    assignment: Mapped[TeachingAssignment] = relationship()


class LessonStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"  # the topic was entered: the teacher's confirmation that the lesson took place
    CANCELLED = "cancelled"


class Lesson(Audited, Base):
    """A timetable slot on a date; the teacher is whoever actually teaches it (substitutions)."""

    __tablename__ = "lessons"
    __table_args__ = (
        UniqueConstraint("timetable_entry_id", "date"),
        # The gmina's board reads a day of many schools at once (ediary/district/board.py).
        Index("ix_lessons_school_date_slot", "school_id", "date", "slot_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    timetable_entry_id: Mapped[int | None] = mapped_column(ForeignKey("timetable_entries.id"))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    slot_number: Mapped[int]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("class_groups.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Set when somebody else substitutes: the teacher the timetable names.
    substitute_for_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    status: Mapped[LessonStatus] = mapped_column(
        enum_column(LessonStatus), default=LessonStatus.PLANNED
    )
    topic: Mapped[str | None] = mapped_column(Text)
    # Merged into another group's lesson in the same slot (the teacher is absent): this lesson is
    # then CANCELLED for everything that reads lessons (the kiosk opens nothing for it, no entry
    # is missing, statistics skip it) and its pupils are on the roll of `merged_into`, where
    # their attendance is recorded: on the lesson they actually sit in, with the teacher who
    # sees them (`timetable.queries.roster`). One roll per room and teacher, and no roll of a
    # lesson that did not take place.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    school_class: Mapped[SchoolClass] = relationship()
    group: Mapped[ClassGroup | None] = relationship()
    subject: Mapped[Subject] = relationship()
    room: Mapped[Room] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version"})

    def __repr__(self) -> str:
        return f"<Lesson {self.id} {self.date} #{self.slot_number}>"


class TimetableUpload(Base):
    """A timetable file between its dry run and its commit: the commit reads the very bytes the
    person saw the dry run of (by its digest), not a second upload. Not `Audited`: it is a
    request's scratch, not a school record; the commit's history says what changed."""

    __tablename__ = "timetable_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    format: Mapped[str] = mapped_column(String(8))  # "asc" or "csv"
    filename: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
