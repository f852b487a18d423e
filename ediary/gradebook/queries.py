"""Read-only: the gradebook grid of one assignment and term, and a pupil's row of it.

Three queries build a grid of any size (columns, pupils, the grades of those pupils in the
subject and term); the averages are the pupil card's (`weighted_average`, the school's rules),
over every grade of the subject in the term, the kiosk's included, so the grid and the parents
see the same number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import format_decimal
from sqlalchemy import select

from ediary.db import db
from ediary.diary.models import Grade, GradeKind
from ediary.diary.queries import Average, weighted_average
from ediary.gradebook.models import Assessment
from ediary.gradebook.operations import shown
from ediary.schools.models import GroupMembership, Pupil, School, Term
from ediary.timetable.models import TeachingAssignment


@dataclass
class Cell:
    grade: Grade | None = None
    earlier: list[Grade] = field(default_factory=list)  # improved ones, oldest first

    @property
    def text(self) -> str:
        return shown(self.grade)


@dataclass
class Row:
    pupil: Pupil
    cells: list[Cell]
    others: list[Grade]  # grades of the subject and term outside the grid's columns (kiosk)
    average: Average
    counted: frozenset[int]

    @property
    def explanation(self) -> str:
        return explain(self.average)


@dataclass
class Grid:
    assignment: TeachingAssignment
    term: Term
    assessments: list[Assessment]
    rows: list[Row]


def grid_pupils(assignment: TeachingAssignment) -> Sequence[Pupil]:
    query = select(Pupil).where(Pupil.class_id == assignment.class_id, Pupil.active.is_(True))
    if assignment.group_id is not None:
        query = query.join(GroupMembership, GroupMembership.pupil_id == Pupil.id).where(
            GroupMembership.group_id == assignment.group_id
        )
    return db.session.scalars(query.order_by(Pupil.last_name, Pupil.first_name, Pupil.id)).all()


def assessments_of(assignment: TeachingAssignment, term: Term) -> list[Assessment]:
    query = (
        select(Assessment)
        .where(
            Assessment.assignment_id == assignment.id,
            Assessment.term_id == term.id,
            Assessment.removed.is_(False),
        )
        .order_by(Assessment.given_on, Assessment.id)
    )
    return list(db.session.scalars(query))


def _grades(pupil_ids: list[int], subject_id: int, term_id: int) -> dict[int, list[Grade]]:
    by_pupil: dict[int, list[Grade]] = defaultdict(list)
    if not pupil_ids:
        return by_pupil
    query = (
        select(Grade)
        .where(
            Grade.pupil_id.in_(pupil_ids),
            Grade.subject_id == subject_id,
            Grade.term_id == term_id,
            Grade.kind == GradeKind.ONGOING,
            Grade.removed.is_(False),
        )
        .order_by(Grade.id)
    )
    for grade in db.session.scalars(query):
        by_pupil[grade.pupil_id].append(grade)
    return by_pupil


def _row(pupil: Pupil, columns: dict[int, int], grades: list[Grade], school: School) -> Row:
    cells = [Cell() for _ in columns]
    others = []
    for grade in grades:  # oldest first: an improvement replaces its original as the cell's
        column = columns.get(grade.assessment_id or 0)
        if column is None:
            others.append(grade)
            continue
        cell = cells[column]
        if cell.grade is not None:
            cell.earlier.append(cell.grade)
        cell.grade = grade
    average = weighted_average(grades, school)
    return Row(pupil, cells, others, average, frozenset(t.grade_id for t in average.terms))


def build_grid(assignment: TeachingAssignment, term: Term, school: School) -> Grid:
    assessments = assessments_of(assignment, term)
    columns = {a.id: index for index, a in enumerate(assessments)}
    pupils = grid_pupils(assignment)
    grades = _grades([p.id for p in pupils], assignment.subject_id, term.id)
    rows = [_row(p, columns, grades.get(p.id, []), school) for p in pupils]
    return Grid(assignment, term, assessments, rows)


def pupil_row(
    grid_assessments: list[Assessment], pupil: Pupil, term: Term, school: School, subject_id: int
) -> Row:
    columns = {a.id: index for index, a in enumerate(grid_assessments)}
    return _row(pupil, columns, _grades([pupil.id], subject_id, term.id).get(pupil.id, []), school)


def _number(value: Decimal) -> str:
    return str(format_decimal(value, format="0.##"))


def explain(average: Average) -> str:
    """The sum a parent can redo: "(4,5×3 + 3×2) / 5 = 3,90"."""
    if average.value is None:
        return ""
    parts = " + ".join(f"{_number(t.worth)}×{t.weight}" for t in average.terms)
    return f"({parts}) / {average.weights} = {format_decimal(average.value, format='0.00')}"
