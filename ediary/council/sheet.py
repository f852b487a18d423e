"""The council sheet (zestawienie na radę klasyfikacyjną): per class a row per pupil with the
final grade of each subject, the average of the numeric ones, attendance and the behaviour grade,
and the flags the council decides on; a summary per class and for the whole school.

Read-only (no operation). The whole school's sheet is built in a fixed number of queries, however
many classes it has (bench/council.py measures it).

The term's council (a term before the last) reads the TERM grades and the term's attendance; the
year's council (the last term's) reads the YEAR grades, the whole year's attendance and the last
term's behaviour grade, and decides promotion and the certificate with distinction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.classification.calendar import is_last_term
from ediary.classification.values import FAILING, NOT_CLASSIFIED, NUMERIC
from ediary.council.models import Behaviour, BehaviourGrade, BehaviourKind
from ediary.db import db
from ediary.diary.models import Grade, GradeKind
from ediary.diary.queries import AttendanceSummary, attendance_of_pupils
from ediary.documents.tables import Cell, Table
from ediary.schools.models import Pupil, SchoolClass, SchoolYear, Subject, Term
from ediary.timetable.models import TeachingAssignment

# Świadectwo z wyróżnieniem (grades 4-8): a year average of at least 4.75 and behaviour at
# least "bardzo dobre" (rozporządzenie w sprawie oceniania, § 20 of the typical statute).
DISTINCTION_AVERAGE = Decimal("4.75")
DISTINCTION_BEHAVIOUR = Behaviour.VERY_GOOD
MARKS_FROM = 4  # classes 1-3: descriptive grades, always promoted, no distinction
CENT = Decimal("0.01")


def mean(values: Sequence[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, ROUND_HALF_UP)


@dataclass
class SheetRow:
    number: int
    pupil: Pupil
    grades: dict[int, Grade]  # subject id → the final grade
    attendance: AttendanceSummary
    behaviour: Behaviour | None
    marks: bool  # a class of 4-8 (graded, behaviour graded, promotion decided)
    year_council: bool

    @property
    def average(self) -> Decimal | None:
        return mean([Decimal(g.value) for g in self.grades.values() if g.value in NUMERIC])

    @property
    def not_classified(self) -> bool:
        return any(g.value == NOT_CLASSIFIED for g in self.grades.values())

    @property
    def not_promoted(self) -> bool:
        return (
            self.year_council
            and self.marks
            and any(g.value == FAILING for g in self.grades.values())
        )

    @property
    def distinction(self) -> bool:
        average = self.average
        return (
            self.year_council
            and self.marks
            and not self.not_classified
            and average is not None
            and average >= DISTINCTION_AVERAGE
            and self.behaviour is not None
            and self.behaviour.rank <= DISTINCTION_BEHAVIOUR.rank
        )

    def shown(self, subject: Subject) -> str:
        """What the sheet's cell says: the grade, "nkl", "zw", "opisowa" or nothing yet."""
        grade = self.grades.get(subject.id)
        if grade is None:
            return ""
        if grade.value:
            return grade.value
        return "opis." if grade.descriptive else ""


@dataclass
class ClassSheet:
    school_class: SchoolClass
    term: Term
    year_council: bool
    starts_on: dt.date
    subjects: list[Subject]
    rows: list[SheetRow]

    @property
    def marks(self) -> bool:
        return self.school_class.grade_level >= MARKS_FROM

    @property
    def average(self) -> Decimal | None:
        return mean([a for a in (r.average for r in self.rows) if a is not None])

    @property
    def attendance(self) -> AttendanceSummary:
        return AttendanceSummary(
            present=sum(r.attendance.present for r in self.rows),
            absent=sum(r.attendance.absent for r in self.rows),
        )

    @property
    def not_classified(self) -> list[SheetRow]:
        return [r for r in self.rows if r.not_classified]

    @property
    def not_promoted(self) -> list[SheetRow]:
        return [r for r in self.rows if r.not_promoted]

    @property
    def distinctions(self) -> list[SheetRow]:
        return [r for r in self.rows if r.distinction]

    @property
    def behaviour_counts(self) -> list[tuple[Behaviour, int]]:
        counts = {b: 0 for b in Behaviour}
        for row in self.rows:
            if row.behaviour is not None:
                counts[row.behaviour] += 1
        return list(counts.items())

    @property
    def missing_behaviour(self) -> int:
        return sum(1 for r in self.rows if r.behaviour is None) if self.marks else 0


@dataclass
class SchoolSheet:
    term: Term
    year_council: bool
    classes: list[ClassSheet] = field(default_factory=list)

    @property
    def pupils(self) -> int:
        return sum(len(c.rows) for c in self.classes)

    @property
    def average(self) -> Decimal | None:
        return mean([a for c in self.classes for a in (r.average for r in c.rows) if a is not None])

    @property
    def attendance(self) -> AttendanceSummary:
        return AttendanceSummary(
            present=sum(c.attendance.present for c in self.classes),
            absent=sum(c.attendance.absent for c in self.classes),
        )

    @property
    def not_classified(self) -> int:
        return sum(len(c.not_classified) for c in self.classes)

    @property
    def not_promoted(self) -> int:
        return sum(len(c.not_promoted) for c in self.classes)

    @property
    def distinctions(self) -> int:
        return sum(len(c.distinctions) for c in self.classes)


def _attendance(
    pupil_ids: list[int], starts_on: dt.date, ends_on: dt.date
) -> dict[int, AttendanceSummary]:
    return attendance_of_pupils(pupil_ids, starts_on, ends_on)


def build_sheets(classes: Iterable[SchoolClass], term: Term) -> SchoolSheet:
    """The sheets of `classes` (all of `term`'s school year) for `term`'s council."""
    classes = [c for c in classes if c.year_id == term.year_id]
    year_council = is_last_term(term)
    year = db.session.get_one(SchoolYear, term.year_id)
    starts_on = year.starts_on if year_council else term.starts_on
    sheet = SchoolSheet(term, year_council)
    if not classes:
        return sheet
    class_ids = [c.id for c in classes]
    pupils = list(
        db.session.scalars(
            select(Pupil)
            .where(Pupil.class_id.in_(class_ids), Pupil.active.is_(True))
            .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
        )
    )
    pupil_ids = [p.id for p in pupils]
    kind = GradeKind.YEAR if year_council else GradeKind.TERM
    grades: dict[int, dict[int, Grade]] = defaultdict(dict)
    for grade in db.session.scalars(
        select(Grade)
        .where(
            Grade.pupil_id.in_(pupil_ids),
            Grade.term_id == term.id,
            Grade.kind == kind,
            Grade.removed.is_(False),
        )
        .order_by(Grade.id)
    ):
        grades[grade.pupil_id][grade.subject_id] = grade  # the latest row wins
    behaviour = {
        pupil_id: value
        for pupil_id, value in db.session.execute(
            select(BehaviourGrade.pupil_id, BehaviourGrade.value).where(
                BehaviourGrade.term_id == term.id,
                BehaviourGrade.kind == BehaviourKind.FINAL,
                BehaviourGrade.pupil_id.in_(pupil_ids),
            )
        )
    }
    attendance = _attendance(pupil_ids, starts_on, term.ends_on)
    taught: dict[int, set[int]] = defaultdict(set)
    for class_id, subject_id in db.session.execute(
        select(TeachingAssignment.class_id, TeachingAssignment.subject_id).where(
            TeachingAssignment.class_id.in_(class_ids)
        )
    ):
        taught[class_id].add(subject_id)
    by_class: dict[int, list[Pupil]] = defaultdict(list)
    for pupil in pupils:
        by_class[pupil.class_id].append(pupil)
        taught[pupil.class_id].update(grades[pupil.id])
    subject_ids = set().union(*taught.values()) if taught else set()
    subjects = list(
        db.session.scalars(
            select(Subject).where(Subject.id.in_(subject_ids)).order_by(Subject.name)
        )
    )
    for school_class in sorted(classes, key=lambda c: (c.grade_level, c.name)):
        marks = school_class.grade_level >= MARKS_FROM
        rows = [
            SheetRow(
                number,
                pupil,
                grades[pupil.id],
                attendance.get(pupil.id, AttendanceSummary()),
                behaviour.get(pupil.id) if marks else None,
                marks,
                year_council,
            )
            for number, pupil in enumerate(by_class[school_class.id], start=1)
        ]
        sheet.classes.append(
            ClassSheet(
                school_class,
                term,
                year_council,
                starts_on,
                [s for s in subjects if s.id in taught[school_class.id]],
                rows,
            )
        )
    return sheet


def sheet_table(sheet: SchoolSheet, title: str) -> Table:
    """The sheet as a spreadsheet: a row per pupil of every class (the class in the first
    column), the subjects of all the classes as columns; flags as "tak" or empty."""
    subjects: dict[int, Subject] = {}
    for class_sheet in sheet.classes:
        for subject in class_sheet.subjects:
            subjects.setdefault(subject.id, subject)
    columns = sorted(subjects.values(), key=lambda s: s.name)
    yes = str(_l("tak"))
    table = Table(
        title,
        [str(_l("Klasa")), str(_l("Nr")), str(_l("Nazwisko")), str(_l("Imię"))]
        + [s.name for s in columns]
        + [
            str(_l("Średnia")),
            str(_l("Frekwencja %")),
            str(_l("Zachowanie")),
            str(_l("Nieklasyfikowany")),
            str(_l("Bez promocji")),
            str(_l("Z wyróżnieniem")),
        ],
    )
    for class_sheet in sheet.classes:
        for row in class_sheet.rows:
            cells: list[Cell] = [
                class_sheet.school_class.name,
                row.number,
                row.pupil.last_name,
                row.pupil.first_name,
            ]
            cells += [row.shown(s) or None for s in columns]
            cells += [
                row.average,
                row.attendance.present_percent,
                row.behaviour.label if row.behaviour else None,
                yes if row.not_classified else None,
                yes if row.not_promoted else None,
                yes if row.distinction else None,
            ]
            table.rows.append(cells)
    return table
