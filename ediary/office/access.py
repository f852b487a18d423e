"""The office's loaders: the object if the person keeps the school's register (a secretary or
the school administrator of that school), else 404 (forbidden looks like missing)."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.ids import parse_id
from ediary.office.models import RecordedParent
from ediary.people.models import User
from ediary.schools.access import load_school
from ediary.schools.models import ClassGroup, Guardianship, Pupil, School, SchoolClass


def load_office(user: User, school_id: int) -> School:
    return load_school(user, school_id)


def load_register_pupil(user: User, pupil_id: int) -> Pupil:
    """A pupil of the register, those who left included (a guardian or teacher: 404 here)."""
    pupil = db.session.get(Pupil, pupil_id)
    if pupil is None or not roles.manages_register(user, pupil.school_id):
        raise NotFound()
    return pupil


def load_link(user: User, pupil: Pupil, guardian_id: int) -> tuple[User, Guardianship]:
    """A guardian linked to `pupil` (already loaded for `user`), with the link."""
    found = db.session.execute(
        select(User, Guardianship)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.pupil_id == pupil.id, User.id == guardian_id)
    ).first()
    if found is None:
        raise NotFound()
    user, link = found
    return user, link


def school_guardian(school: School, raw_id: str) -> User | None:
    """A guardian account linked to some pupil of `school` (a sibling's parent), or None:
    from a form field, so any text, a huge number or another school's guardian is None."""
    user_id = parse_id(raw_id)
    if user_id is None:
        return None
    return db.session.scalar(
        select(User).where(
            User.id == user_id,
            User.id.in_(select(Guardianship.user_id).where(Guardianship.school_id == school.id)),
        )
    )


def school_class(school_id: int, raw_id: str) -> SchoolClass | None:
    """A class of the school named by a form field, or None."""
    class_id = parse_id(raw_id)
    found = db.session.get(SchoolClass, class_id) if class_id is not None else None
    return found if found is not None and found.school_id == school_id else None


def class_groups(school_class: SchoolClass, raw_ids: list[str]) -> list[ClassGroup] | None:
    """The groups of the class named by form fields, or None if one is not of the class."""
    ids = [parse_id(raw) for raw in raw_ids]
    if any(i is None for i in ids):
        return None
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    groups = list(
        db.session.scalars(
            select(ClassGroup).where(
                ClassGroup.id.in_(wanted), ClassGroup.class_id == school_class.id
            )
        )
    )
    return groups if len(groups) == len(wanted) else None


def load_recorded_parent(pupil: Pupil, parent_id: int) -> RecordedParent:
    """A parent recorded without access for `pupil` (already loaded for the person), else 404."""
    parent = db.session.get(RecordedParent, parent_id)
    if parent is None or parent.pupil_id != pupil.id:
        raise NotFound()
    return parent
