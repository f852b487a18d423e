"""Read models for pages about a pupil, a class, a school and a gmina.

Each function takes an object its caller has already loaded through an access loader: scope is
decided there, never here. The gmina's figures are aggregates per school only (DESIGN.md: district
administrators see no individual pupil), computed with grouped queries so that their cost does not
grow with the number of pupils loaded into Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from ediary.db import db
from ediary.diary.models import (
    Attendance,
    AttendanceType,
    Grade,
    GradeKind,
    Presence,
    Remark,
)
from ediary.diary.queries import AttendanceSummary, Average, attendance_by_subject, weighted_average
from ediary.gradingrules.years import rules_for_term
from ediary.kiosks.models import Kiosk
from ediary.people.models import Membership, Role, User
from ediary.schools.models import (
    ClassGroup,
    District,
    GroupMembership,
    Pupil,
    School,
    SchoolClass,
    SchoolYear,
    Subject,
    Term,
)
from ediary.timetable.models import Lesson, LessonStatus, TeachingAssignment

RECENT_TOPICS = 10
FINAL_KINDS = (GradeKind.PROPOSED_TERM, GradeKind.TERM, GradeKind.PROPOSED_YEAR, GradeKind.YEAR)


# --- the pupil card -------------------------------------------------------------------------


@dataclass
class SubjectCard:
    subject: Subject
    grades: list[Grade] = field(default_factory=list)
    finals: list[Grade] = field(default_factory=list)
    average: Average = field(default_factory=lambda: Average(None))
    attendance: AttendanceSummary | None = None
    warns: bool = False


@dataclass
class PupilCard:
    pupil: Pupil
    school: School
    term: Term
    terms: list[Term]
    subjects: list[SubjectCard]
    remarks: list[Remark]
    topics: list[Lesson]

    @property
    def warnings(self) -> list[SubjectCard]:
        return [s for s in self.subjects if s.warns]


def school_today(school: School) -> dt.date:
    """The date at the school (a school day is local time, not UTC)."""
    return dt.datetime.now(ZoneInfo(school.timezone)).date()


def terms_of(pupil: Pupil) -> list[Term]:
    query = select(Term).where(Term.year_id == pupil.school_class.year_id).order_by(Term.number)
    return list(db.session.scalars(query))


def current_term(terms: Sequence[Term], today: dt.date) -> Term:
    """The term today falls in; between terms or after the year, the latest one that started."""
    started = [t for t in terms if t.starts_on <= today]
    for term in started:
        if term.ends_on >= today:
            return term
    return started[-1] if started else terms[0]


def _group_ids(pupil: Pupil) -> list[int]:
    query = select(GroupMembership.group_id).where(GroupMembership.pupil_id == pupil.id)
    return list(db.session.scalars(query))


def _for_pupil(
    pupil: Pupil, group_column: InstrumentedAttribute[int | None]
) -> ColumnElement[bool]:
    """Whole-class rows, or rows of a group the pupil belongs to."""
    return or_(group_column.is_(None), group_column.in_(_group_ids(pupil)))


def pupil_card(pupil: Pupil, term: Term, terms: list[Term]) -> PupilCard:
    school = pupil.school_class.school
    grades = db.session.scalars(
        select(Grade)
        .where(Grade.pupil_id == pupil.id, Grade.term_id == term.id, Grade.removed.is_(False))
        .order_by(Grade.given_on, Grade.id)
    ).all()
    attendance = attendance_by_subject(pupil, since=term.starts_on, until=term.ends_on)
    taught = select(TeachingAssignment.subject_id).where(
        TeachingAssignment.class_id == pupil.class_id,
        _for_pupil(pupil, TeachingAssignment.group_id),
    )
    subject_ids = {g.subject_id for g in grades} | set(attendance) | set(db.session.scalars(taught))
    subjects = db.session.scalars(
        select(Subject).where(Subject.id.in_(subject_ids)).order_by(Subject.name)
    ).all()
    cards = {s.id: SubjectCard(s) for s in subjects}
    for grade in grades:
        card = cards[grade.subject_id]
        (card.grades if grade.kind is GradeKind.ONGOING else card.finals).append(grade)
    rules = rules_for_term(term.id)  # the statute of the term's school year
    for card in cards.values():
        card.average = weighted_average(card.grades, rules)
        card.finals.sort(key=lambda g: FINAL_KINDS.index(g.kind))
        card.attendance = attendance.get(card.subject.id)
        card.warns = card.attendance is not None and card.attendance.warns(
            school.absence_warning_percent
        )
    remarks = db.session.scalars(
        select(Remark)
        .where(Remark.pupil_id == pupil.id, Remark.removed.is_(False))
        .where(Remark.given_on >= term.starts_on, Remark.given_on <= term.ends_on)
        .order_by(Remark.given_on.desc(), Remark.id.desc())
    ).all()
    topics = db.session.scalars(
        select(Lesson)
        .where(
            Lesson.class_id == pupil.class_id,
            Lesson.topic.is_not(None),
            Lesson.status == LessonStatus.HELD,
            _for_pupil(pupil, Lesson.group_id),
        )
        .order_by(Lesson.date.desc(), Lesson.slot_number.desc())
        .limit(RECENT_TOPICS)
    ).all()
    return PupilCard(
        pupil=pupil,
        school=school,
        term=term,
        terms=terms,
        subjects=list(cards.values()),
        remarks=list(remarks),
        topics=list(topics),
    )


# --- a class --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Teaching:
    subject: str
    teacher: str
    group: str | None


@dataclass
class ClassOverview:
    school_class: SchoolClass
    tutor: User | None
    pupils: list[Pupil]
    teaching: list[Teaching]


def class_overview(school_class: SchoolClass) -> ClassOverview:
    tutor = (
        db.session.get(User, school_class.form_tutor_id)
        if school_class.form_tutor_id is not None
        else None
    )
    rows = db.session.execute(
        select(Subject.name, User.first_name, User.last_name, ClassGroup.name)
        .join(TeachingAssignment, TeachingAssignment.subject_id == Subject.id)
        .join(User, User.id == TeachingAssignment.teacher_id)
        .outerjoin(ClassGroup, ClassGroup.id == TeachingAssignment.group_id)
        .where(TeachingAssignment.class_id == school_class.id)
        .order_by(Subject.name, ClassGroup.name, User.last_name)
    )
    teaching = [Teaching(subject, f"{first} {last}", group) for subject, first, last, group in rows]
    pupils = [p for p in school_class.pupils if p.active]
    return ClassOverview(school_class, tutor, pupils, teaching)


# --- a school -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassCount:
    school_class: SchoolClass
    pupils: int


@dataclass
class SchoolOverview:
    school: School
    year: SchoolYear | None
    classes: list[ClassCount]
    staff: dict[Role, int]
    kiosks: list[Kiosk]


def year_of(school_id: int, today: dt.date) -> SchoolYear | None:
    """The school year today falls in, else the latest one that started (summer holidays)."""
    years = db.session.scalars(
        select(SchoolYear)
        .where(SchoolYear.school_id == school_id, SchoolYear.starts_on <= today)
        .order_by(SchoolYear.starts_on.desc())
    ).all()
    return years[0] if years else None


def school_overview(school: School, today: dt.date) -> SchoolOverview:
    year = year_of(school.id, today)
    classes: list[ClassCount] = []
    if year is not None:
        counts = (
            select(Pupil.class_id, func.count().label("n"))
            .where(Pupil.school_id == school.id, Pupil.active.is_(True))
            .group_by(Pupil.class_id)
            .subquery()
        )
        rows = db.session.execute(
            select(SchoolClass, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.class_id == SchoolClass.id)
            .where(SchoolClass.year_id == year.id)
            .order_by(SchoolClass.grade_level, SchoolClass.name)
        )
        classes = [ClassCount(c, int(n)) for c, n in rows]
    staff_rows = db.session.execute(
        select(Membership.role, func.count(func.distinct(Membership.user_id)))
        .where(Membership.school_id == school.id)
        .group_by(Membership.role)
    )
    staff = {role: int(n) for role, n in staff_rows}
    kiosks = db.session.scalars(
        select(Kiosk).where(Kiosk.school_id == school.id).order_by(Kiosk.name)
    ).all()
    return SchoolOverview(school, year, classes, staff, list(kiosks))


# --- a gmina: aggregates only ---------------------------------------------------------------


@dataclass
class SchoolFigures:
    """What a district administrator may see of one school: counts and shares, no names."""

    school: School
    pupils: int = 0
    classes: int = 0
    present: int = 0
    absent: int = 0
    grades: dict[int, int] = field(default_factory=dict)  # whole grade 1..6 → how many

    @property
    def attendance_percent(self) -> Decimal | None:
        total = self.present + self.absent
        if total == 0:
            return None
        return (Decimal(100) * self.present / total).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def grade_count(self) -> int:
        return sum(self.grades.values())

    @property
    def mean_grade(self) -> Decimal | None:
        """The plain mean of whole grades (modifiers and weights are each school's own rules)."""
        if not self.grades:
            return None
        total = sum(value * n for value, n in self.grades.items())
        return (Decimal(total) / self.grade_count).quantize(Decimal("0.01"), ROUND_HALF_UP)


def district_figures(district: District, today: dt.date) -> list[SchoolFigures]:
    """Per school of the gmina, for the school year today falls in."""
    figures = {s.id: SchoolFigures(s) for s in district.schools}
    if not figures:
        return []
    ids = list(figures)
    current = (
        select(SchoolYear.id, SchoolYear.school_id, SchoolYear.starts_on, SchoolYear.ends_on)
        .where(
            SchoolYear.school_id.in_(ids),
            SchoolYear.starts_on <= today,
            SchoolYear.ends_on >= today,
        )
        .subquery()
    )
    in_year = SchoolClass.year_id.in_(select(current.c.id))
    pupils = db.session.execute(
        select(Pupil.school_id, func.count())
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(Pupil.school_id.in_(ids), Pupil.active.is_(True), in_year)
        .group_by(Pupil.school_id)
    )
    for school_id, n in pupils:
        figures[school_id].pupils = int(n)
    classes = db.session.execute(
        select(SchoolClass.school_id, func.count())
        .where(SchoolClass.school_id.in_(ids), in_year)
        .group_by(SchoolClass.school_id)
    )
    for school_id, n in classes:
        figures[school_id].classes = int(n)
    attendance = db.session.execute(
        select(Attendance.school_id, AttendanceType.counts_as, func.count())
        .join(AttendanceType, AttendanceType.id == Attendance.type_id)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(
            current,
            and_(
                current.c.school_id == Lesson.school_id,
                Lesson.date >= current.c.starts_on,
                Lesson.date <= current.c.ends_on,
            ),
        )
        .where(Attendance.school_id.in_(ids), Lesson.status != LessonStatus.CANCELLED)
        .group_by(Attendance.school_id, AttendanceType.counts_as)
    )
    for school_id, counts_as, n in attendance:
        if counts_as == Presence.PRESENT:
            figures[school_id].present += int(n)
        else:
            figures[school_id].absent += int(n)
    whole = func.substr(Grade.value, 1, 1)
    grades = db.session.execute(
        select(Grade.school_id, whole, func.count())
        .join(Term, Term.id == Grade.term_id)
        .where(
            Grade.school_id.in_(ids),
            Grade.kind == GradeKind.ONGOING,
            Grade.removed.is_(False),
            whole.in_(["1", "2", "3", "4", "5", "6"]),
            Term.year_id.in_(select(current.c.id)),
        )
        .group_by(Grade.school_id, whole)
    )
    distribution: dict[int, dict[int, int]] = defaultdict(dict)
    for school_id, value, n in grades:
        distribution[school_id][int(value)] = int(n)
    for school_id, counts in distribution.items():
        figures[school_id].grades = dict(sorted(counts.items()))
    return list(figures.values())
