"""The demo's gradebook columns: `nauczyciel1` and `wychowawca1` open a grid with grades.

The demo's history writes grades lesson by lesson (ediary/demo/history.py); here the grades of
those two teachers that a whole class wrote together (a test, a quiz: three grades or more of
one date, category and description) become one column each, with their improvements in the
same cell. Single grades (an answer at the board) stay in the grid's "Inne" column.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.diary.models import Grade, GradeKind
from ediary.gradebook.models import Assessment
from ediary.gradebook.queries import grid_pupils
from ediary.people.models import User
from ediary.timetable.models import TeachingAssignment

TEACHERS = ("nauczyciel1", "wychowawca1")
TOGETHER = 3  # grades of one date, category and description that make a column


def add_columns() -> int:
    """Columns for the demo teachers' assignments; returns how many. The caller commits.
    Each teacher makes their own (the history names them, as for their grades)."""
    teachers = db.session.scalars(select(User).where(User.login.in_(TEACHERS))).all()
    return sum(_columns(Actor(teacher, Channel.IMPORT), teacher) for teacher in teachers)


@operation
def _columns(actor: Actor, teacher: User) -> int:
    made = 0
    assignments = db.session.scalars(
        select(TeachingAssignment)
        .where(TeachingAssignment.teacher_id == teacher.id)
        .order_by(TeachingAssignment.id)
    ).all()
    for assignment in assignments:
        pupils = [p.id for p in grid_pupils(assignment)]
        grades = db.session.scalars(
            select(Grade)
            .where(
                Grade.teacher_id == assignment.teacher_id,
                Grade.subject_id == assignment.subject_id,
                Grade.pupil_id.in_(pupils),
                Grade.kind == GradeKind.ONGOING,
                Grade.category_id.is_not(None),
                Grade.assessment_id.is_(None),
            )
            .order_by(Grade.id)
        ).all()
        together: dict[tuple[object, ...], list[Grade]] = defaultdict(list)
        for grade in grades:
            if grade.improves_id is None:
                key = (grade.term_id, grade.given_on, grade.category_id, grade.description)
                together[key].append(grade)
        column_of: dict[int, int] = {}
        for (term_id, given_on, category_id, description), members in together.items():
            if len(members) < TOGETHER:
                continue
            column = Assessment(
                school_id=assignment.school_id,
                assignment_id=assignment.id,
                term_id=term_id,
                category_id=category_id,
                description=description,
                given_on=given_on,
            )
            db.session.add(column)
            db.session.flush()
            made += 1
            for grade in members:
                grade.assessment_id = column.id
                column_of[grade.id] = column.id
        for grade in grades:  # improvements join their original's cell
            if grade.improves_id in column_of:
                grade.assessment_id = column_of[grade.improves_id]
                column_of[grade.id] = column_of[grade.improves_id]
    return made
