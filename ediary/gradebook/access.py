"""Loaders of the gradebook: a teacher reaches the grids of their own assignments only.

Anything else (another teacher's assignment, the form tutor of the class, the office, an id that
does not exist) is the same 404: forbidden looks exactly like missing.
"""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.gradebook.models import Assessment
from ediary.people.models import Role, User
from ediary.schools.models import Pupil
from ediary.timetable.models import TeachingAssignment


def load_assignment(
    user: User, class_id: int, subject_id: int, group_id: int | None
) -> TeachingAssignment:
    """The person's own przydział of this class (or group of it, `?group=`) and subject."""
    assignment = db.session.scalar(
        select(TeachingAssignment).where(
            TeachingAssignment.teacher_id == user.id,
            TeachingAssignment.class_id == class_id,
            TeachingAssignment.subject_id == subject_id,
            TeachingAssignment.group_id.is_(None)
            if group_id is None
            else TeachingAssignment.group_id == group_id,
        )
    )
    if assignment is None or not roles.has_school_role(user, assignment.school_id, Role.TEACHER):
        raise NotFound()
    return assignment


def load_assessment(assignment: TeachingAssignment, assessment_id: int | None) -> Assessment:
    """A column of this grid (the assignment was loaded for the person first)."""
    found = db.session.get(Assessment, assessment_id) if assessment_id is not None else None
    if found is None or found.assignment_id != assignment.id:
        raise NotFound()
    return found


def load_grid_pupil(assignment: TeachingAssignment, pupil_id: int | None) -> Pupil:
    """A pupil of the grid's class; whether of its group the operation says (a refusal)."""
    found = db.session.get(Pupil, pupil_id) if pupil_id is not None else None
    if found is None or found.class_id != assignment.class_id:
        raise NotFound()
    return found


def is_teacher(user: User) -> bool:
    return any(m.role is Role.TEACHER for m in user.memberships)


def require_teacher(user: User) -> None:
    if not is_teacher(user):
        raise NotFound()
