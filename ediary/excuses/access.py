"""Who may see and decide excuse requests: the pupil's guardians ask; the form tutor decides.

Forbidden looks like missing (404). The note's photo is shown to exactly these two: a guardian of
the pupil and the form tutor of the pupil's class (not to other teachers, not to the office).
"""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.excuses.models import ExcuseRequest
from ediary.people.models import User
from ediary.schools.models import Pupil, SchoolClass


def load_child(user: User, pupil_id: int) -> Pupil:
    """A pupil the user is a guardian of (the portal's pages are a parent's, not staff's)."""
    pupil = db.session.get(Pupil, pupil_id)
    if pupil is None or not roles.is_guardian_of(user, pupil.id):
        raise NotFound()
    return pupil


def tutors(user: User, request: ExcuseRequest) -> bool:
    school_class = db.session.get(SchoolClass, request.class_id)
    return school_class is not None and roles.is_form_tutor(user, school_class)


def load_for_decision(user: User, excuse_id: int) -> ExcuseRequest:
    request = db.session.get(ExcuseRequest, excuse_id)
    if request is None or not tutors(user, request):
        raise NotFound()
    return request


def load_note(user: User, excuse_id: int) -> ExcuseRequest:
    request = db.session.get(ExcuseRequest, excuse_id)
    if (
        request is None
        or request.note_file is None
        or not (roles.is_guardian_of(user, request.pupil_id) or tutors(user, request))
    ):
        raise NotFound()
    return request


def tutored_classes(user: User) -> list[SchoolClass]:
    return list(
        db.session.scalars(
            select(SchoolClass)
            .where(SchoolClass.form_tutor_id == user.id)
            .order_by(SchoolClass.name)
        )
    )
