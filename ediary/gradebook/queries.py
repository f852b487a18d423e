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

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from ediary.db import db
from ediary.diary.models import Grade, GradeCategory, GradeKind
from ediary.diary.queries import Average, weighted_average
from ediary.gradebook.models import Assessment
from ediary.gradebook.operations import shown
from ediary.gradingrules.years import YearRuleSet, rules_for_term
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
    rules: YearRuleSet  # the statute's rules of the term's school year: weights, +/-, policy


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


def _grades(
    pupil_ids: list[int], subject_id: int, term_id: int, school_id: int
) -> dict[int, list[Grade]]:
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
        # The few categories are loaded once (below); each grade then finds its own in the
        # session's identity map instead of a join per row.
        .options(lazyload(Grade.category))
    )
    db.session.scalars(select(GradeCategory).where(GradeCategory.school_id == school_id)).all()
    for grade in db.session.scalars(query):
        by_pupil[grade.pupil_id].append(grade)
    return by_pupil


def _row(pupil: Pupil, columns: dict[int, int], grades: list[Grade], rules: YearRuleSet) -> Row:
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
    average = weighted_average(grades, rules)
    return Row(pupil, cells, others, average, frozenset(t.grade_id for t in average.terms))


def build_grid(assignment: TeachingAssignment, term: Term, school: School) -> Grid:
    assessments = assessments_of(assignment, term)
    columns = {a.id: index for index, a in enumerate(assessments)}
    pupils = grid_pupils(assignment)
    grades = _grades([p.id for p in pupils], assignment.subject_id, term.id, school.id)
    rules = rules_for_term(term.id)
    rows = [_row(p, columns, grades.get(p.id, []), rules) for p in pupils]
    return Grid(assignment, term, assessments, rows, rules)


def pupil_rows(assignment: TeachingAssignment, assessment: Assessment, school: School) -> list[Row]:
    """The grid's rows with one column, `assessment` (the column's plain form)."""
    pupils = grid_pupils(assignment)
    grades = _grades([p.id for p in pupils], assignment.subject_id, assessment.term_id, school.id)
    rules = rules_for_term(assessment.term_id)
    return [_row(p, {assessment.id: 0}, grades.get(p.id, []), rules) for p in pupils]


def pupil_row(
    grid_assessments: list[Assessment], pupil: Pupil, term: Term, school: School, subject_id: int
) -> Row:
    columns = {a.id: index for index, a in enumerate(grid_assessments)}
    return _row(
        pupil,
        columns,
        _grades([pupil.id], subject_id, term.id, school.id).get(pupil.id, []),
        rules_for_term(term.id),
    )


def _number(value: Decimal, point: str) -> str:
    # Not Babel's format_decimal per term: a grid has thousands of terms and it was most of the
    # page's time; the locale's decimal sign, asked once, is all a grade's worth needs.
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", point)


def explain(average: Average) -> str:
    """The sum a parent can redo: "(4,5×3 + 3×2) / 5 = 3,90"."""
    if average.value is None:
        return ""
    point = get_decimal_symbol(get_locale())
    parts = " + ".join(f"{_number(t.worth, point)}×{t.weight}" for t in average.terms)
    return f"({parts}) / {average.weights} = {average.value:.2f}".replace(".", point)


def cells_html(row: Row) -> Markup:
    """A row's cells, written here rather than in the template: 1,800 cells through Jinja's
    attribute look-ups (or `Markup.format`) were most of a full grid's render time. Every text
    goes through `escape`; the rest are integers."""
    out = []
    for cell in row.cells:
        earlier = "".join(
            f'<s class="c">{escape(shown(g))}</s>'
            if g.id in row.counted
            else f"<s>{escape(shown(g))}</s>"
            for g in cell.earlier
        )
        grade = cell.grade
        if grade is None:
            out.append(f'<td>{earlier}<input value=""></td>')
        else:
            out.append(
                f'<td>{earlier}<input value="{escape(shown(grade))}"'
                f' data-g="{int(grade.id)}" data-v="{int(grade.version)}"></td>'
            )
    return Markup("".join(out))  # noqa: S704 - every text above is escaped
