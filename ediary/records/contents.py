"""What a diary export holds: every part, in an order that a restore can insert in (parents
before the rows that point at them), and which of its rows belong to a school's year or a class.

One list drives the writer (export.py), the schema (schema.py, which docs/dziennik-1.xsd is
generated from) and the restore (restore.py), so the three cannot drift apart; a test checks that
every model holding a school's data is exported or named in `NOT_IN_THE_DIARY` with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import ColumnElement, CompoundSelect, Select, Table, and_, or_, select, union

from ediary.audit.models import HistoryEntry
from ediary.classification.models import GradeCorrection
from ediary.council.models import BehaviourGrade
from ediary.db import Base
from ediary.diary.models import Attendance, AttendanceType, Grade, GradeCategory, Remark
from ediary.gradebook.models import Assessment
from ediary.gradingrules.models import YearRules
from ediary.homework.models import Homework
from ediary.kiosks.models import Kiosk
from ediary.office.models import RecordedParent
from ediary.people.models import User
from ediary.schools.models import (
    ClassGroup,
    DayOff,
    District,
    GroupMembership,
    Guardianship,
    Pupil,
    Room,
    School,
    SchoolClass,
    SchoolYear,
    Subject,
    Term,
)
from ediary.timetable.models import BellSlot, Lesson, TeachingAssignment, TimetableEntry

NAMESPACE = "urn:ediary:dziennik:1"
VERSION = "1.0"


@dataclass(frozen=True)
class Scope:
    """A school's year, or one class of it."""

    school_id: int
    year_id: int
    starts_on: dt.date
    ends_on: dt.date
    class_id: int | None = None

    def lessons(self) -> Select[int]:
        query = select(Lesson.id).where(
            Lesson.school_id == self.school_id,
            Lesson.date >= self.starts_on,
            Lesson.date <= self.ends_on,
        )
        if self.class_id is not None:
            query = query.where(Lesson.class_id == self.class_id)
        return query

    def pupils(self) -> Select[int]:
        query = select(Pupil.id).where(Pupil.school_id == self.school_id)
        if self.class_id is not None:
            # The class's pupils now, and those who were in it and left or moved on: their
            # entries in its lessons are part of its diary.
            query = query.where(
                or_(
                    Pupil.class_id == self.class_id,
                    Pupil.id.in_(
                        select(Attendance.pupil_id).where(Attendance.lesson_id.in_(self.lessons()))
                    ),
                )
            )
        return query

    def terms(self) -> Select[int]:
        return select(Term.id).where(Term.year_id == self.year_id)


@dataclass(frozen=True)
class Part:
    """One kind of row: its element, its table, which rows the scope holds, the columns left out."""

    element: str
    model: type[Base]
    rows: Callable[[Scope], ColumnElement[bool]]
    left_out: frozenset[str] = field(default_factory=frozenset)
    doc: str = ""

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.table.columns if c.name not in self.left_out]


def _school(model: type) -> Callable[[Scope], ColumnElement[bool]]:
    return lambda scope: model.school_id == scope.school_id  # type: ignore[attr-defined]


def _entries(model: type[Grade] | type[Remark]) -> Callable[[Scope], ColumnElement[bool]]:
    def rows(scope: Scope) -> ColumnElement[bool]:
        in_year = (
            model.term_id.in_(scope.terms())
            if model is Grade
            else and_(model.given_on >= scope.starts_on, model.given_on <= scope.ends_on)
        )
        return and_(model.school_id == scope.school_id, in_year, model.pupil_id.in_(scope.pupils()))

    return rows


# The people the diary names: teachers, form tutors, guardians, and whoever made a change in its
# history. Their names (and a guardian's address, which the register holds); never a password,
# an e-mail or a phone.
def _people(scope: Scope) -> ColumnElement[bool]:
    lessons = scope.lessons()
    pupils = scope.pupils()
    named: CompoundSelect[int] = union(
        select(Lesson.teacher_id).where(Lesson.id.in_(lessons)),
        select(Lesson.substitute_for_id).where(Lesson.id.in_(lessons)),
        select(TeachingAssignment.teacher_id).where(
            TeachingAssignment.school_id == scope.school_id
        ),
        select(SchoolClass.form_tutor_id).where(SchoolClass.school_id == scope.school_id),
        select(Guardianship.user_id).where(Guardianship.pupil_id.in_(pupils)),
        select(Grade.teacher_id).where(_entries(Grade)(scope)),
        select(Remark.teacher_id).where(_entries(Remark)(scope)),
        select(GradeCorrection.director_id).where(_corrections(scope)),
        select(HistoryEntry.actor_id).where(_history(scope)),
    )
    return User.id.in_(select(named.subquery().c[0]))


def _corrections(scope: Scope) -> ColumnElement[bool]:
    """A director's corrections of the exported grades (issue 15: who, why)."""
    return GradeCorrection.grade_id.in_(select(Grade.id).where(_entries(Grade)(scope)))


def _history(scope: Scope) -> ColumnElement[bool]:
    """The history of exactly the rows exported (of a class's pupils only, in a class's diary)."""

    def exported(part: Part) -> ColumnElement[bool]:
        ids = select(part.table.c.id).where(part.rows(scope))
        return and_(HistoryEntry.entity == part.table.name, HistoryEntry.entity_id.in_(ids))

    rows = [exported(part) for part in PARTS if part.element not in ("change", "person")]
    return and_(HistoryEntry.school_id == scope.school_id, or_(*rows))


def _attendance(scope: Scope) -> ColumnElement[bool]:
    return Attendance.lesson_id.in_(scope.lessons())


def _lessons(scope: Scope) -> ColumnElement[bool]:
    return Lesson.id.in_(scope.lessons())


PARTS: list[Part] = [
    Part(
        "district",
        District,
        lambda s: (
            District.id
            == select(School.district_id).where(School.id == s.school_id).scalar_subquery()
        ),
    ),
    Part("school", School, lambda s: School.id == s.school_id),
    Part(
        "person",
        User,
        _people,
        frozenset(
            {
                "password_hash",
                "email",
                "phone",
                "active",
                "is_demo",
                "session_version",
                "created_at",
                "search_key",  # derived, and folded from the e-mail and phone left out above
            }
        ),
        "a person the diary names",
    ),
    Part("schoolYear", SchoolYear, _school(SchoolYear)),
    Part(
        "term",
        Term,
        lambda s: Term.year_id.in_(
            select(SchoolYear.id).where(SchoolYear.school_id == s.school_id)
        ),
    ),
    Part("dayOff", DayOff, _school(DayOff), doc="a day without lessons in the school's calendar"),
    Part("room", Room, _school(Room)),
    Part("subject", Subject, _school(Subject)),
    Part("schoolClass", SchoolClass, _school(SchoolClass)),
    Part("classGroup", ClassGroup, _school(ClassGroup)),
    Part(
        "pupil",
        Pupil,
        lambda s: Pupil.id.in_(s.pupils()),
        frozenset({"search_key"}),  # derived from the names, rebuilt on every write
    ),
    Part(
        "recordedParent",
        RecordedParent,
        lambda s: RecordedParent.pupil_id.in_(s.pupils()),
        doc="a parent the register names who has no access to the child's data",
    ),
    Part(
        "groupMembership",
        GroupMembership,
        lambda s: GroupMembership.pupil_id.in_(s.pupils()),
    ),
    Part("guardianship", Guardianship, lambda s: Guardianship.pupil_id.in_(s.pupils())),
    Part(
        "kiosk",
        Kiosk,
        _school(Kiosk),
        frozenset({"secret_hash"}),
        "a classroom computer named in the history",
    ),
    Part("bellSlot", BellSlot, _school(BellSlot)),
    Part("teachingAssignment", TeachingAssignment, _school(TeachingAssignment)),
    Part("planEntry", TimetableEntry, _school(TimetableEntry), doc="the weekly plan"),
    Part("attendanceType", AttendanceType, _school(AttendanceType)),
    Part("gradeCategory", GradeCategory, _school(GradeCategory)),
    Part(
        "gradingRules",
        YearRules,
        lambda s: and_(YearRules.school_id == s.school_id, YearRules.year_id == s.year_id),
        doc="the statute's grading rules of the year: +/- values, improvement policy, "
        "non-classification threshold, each category's weight and each attendance type's counting",
    ),
    Part("lesson", Lesson, _lessons, doc="a lesson with its topic; teacher_id signs it"),
    Part("attendance", Attendance, _attendance),
    Part(
        "assessment",
        Assessment,
        lambda s: Assessment.term_id.in_(s.terms()),
        doc="a column of a gradebook: what was assessed, when, with which weight's category",
    ),
    Part(
        "announcement",
        Homework,
        lambda s: Homework.lesson_id.in_(s.lessons()),
        doc="a test (sprawdzian, kartkówka) or homework announced for a lesson",
    ),
    Part("grade", Grade, _entries(Grade)),
    Part("remark", Remark, _entries(Remark)),
    Part(
        "gradeCorrection",
        GradeCorrection,
        _corrections,
        doc="a director's correction of a final grade after the council, with the reason",
    ),
    Part(
        "behaviourGrade",
        BehaviourGrade,
        lambda s: and_(
            BehaviourGrade.term_id.in_(s.terms()), BehaviourGrade.pupil_id.in_(s.pupils())
        ),
        doc="a proposed or final behaviour grade (ocena zachowania) of a term",
    ),
    Part(
        "change",
        HistoryEntry,
        _history,
        doc="one change of the history: who, when, from where, old and new values",
    ),
]

# Models with a school's data that are not part of its diary, each with the reason.
NOT_IN_THE_DIARY: dict[str, str] = {
    "BehaviourOpinion": "a teacher's opinion for the form tutor before the behaviour grade: "
    "working material of the council; the grade itself is in the diary",
    "EnrollmentCode": "a one-time code that enrolled a classroom computer: access, not the record",
    "ExcuseRequest": "a parent's request to excuse absences: correspondence; the attendance it "
    "changed, and who changed it, are in the diary and its history",
    "ExcuseItem": "the lines of an excuse request (see ExcuseRequest)",
    "ProposalAcknowledgement": "a guardian's note of having read the proposed grades: "
    "correspondence with the parents (as an excuse request); the grades are in the diary",
    "ImportMapping": "the office's remembered spreadsheet columns: a setting",
    "ImportUpload": "an uploaded spreadsheet between its dry run and its commit, kept two hours",
    "JournalEvent": "the delivery queue of live updates, pruned after its retention",
    "MessageThread": "messages between families and staff: correspondence, not the diary",
    "Announcement": "the school's announcements to parents: correspondence, not the diary",
    "Membership": "who may use the system in which role: access, not the record",
    "OutgoingMessage": "e-mails and SMS to parents: delivery bookkeeping",
    "SchoolNotificationPolicy": "the school's notification settings",
    "TimetableUpload": "a timetable file between its dry run and its commit, kept a day",
    "YearArchive": "the archives built of the diary: the record of the record (in the history)",
}
