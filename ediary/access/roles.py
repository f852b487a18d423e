"""Role facts as plain predicates, shared by HTTP views, the kiosk API and socket handlers.

Scopes follow DESIGN.md: a teacher reads the pupils of classes they teach and records in lessons
they teach (substitutions included); a form tutor sees their whole class; a parent only linked
children; a secretary the school's register; a school administrator the school; a district
administrator the gmina's schools and aggregates, never an individual pupil.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from ediary.db import db
from ediary.people.models import Role, User
from ediary.schools.models import GroupMembership, Guardianship, Pupil, SchoolClass
from ediary.timetable.models import Lesson, LessonStatus, TeachingAssignment


def has_school_role(user: User, school_id: int, *roles: Role) -> bool:
    return any(m.school_id == school_id and m.role in roles for m in user.memberships)


def is_school_admin(user: User, school_id: int) -> bool:
    return has_school_role(user, school_id, Role.SCHOOL_ADMIN)


def manages_register(user: User, school_id: int) -> bool:
    """Secretaries and school administrators keep the pupil register and parent accounts."""
    return has_school_role(user, school_id, Role.SECRETARY, Role.SCHOOL_ADMIN)


def is_district_admin(user: User, district_id: int) -> bool:
    return any(
        m.role == Role.DISTRICT_ADMIN and m.district_id == district_id for m in user.memberships
    )


def school_ids(user: User) -> set[int]:
    return {m.school_id for m in user.memberships if m.school_id is not None}


def is_guardian_of(user: User, pupil_id: int) -> bool:
    query = select(
        exists().where(Guardianship.user_id == user.id, Guardianship.pupil_id == pupil_id)
    )
    return bool(db.session.scalar(query))


def is_form_tutor(user: User, school_class: SchoolClass) -> bool:
    return school_class.form_tutor_id == user.id


def teaches_class(user: User, class_id: int) -> bool:
    query = select(
        exists().where(
            TeachingAssignment.teacher_id == user.id, TeachingAssignment.class_id == class_id
        )
    )
    return bool(db.session.scalar(query))


def teaches_pupil(user: User, pupil: Pupil) -> bool:
    """An assignment for the pupil's whole class, or for a group the pupil belongs to."""
    in_group = exists().where(
        GroupMembership.group_id == TeachingAssignment.group_id,
        GroupMembership.pupil_id == pupil.id,
    )
    query = select(
        exists().where(
            TeachingAssignment.teacher_id == user.id,
            TeachingAssignment.class_id == pupil.class_id,
            or_(TeachingAssignment.group_id.is_(None), in_group),
        )
    )
    return bool(db.session.scalar(query))


def can_read_class(user: User, school_class: SchoolClass) -> bool:
    return (
        manages_register(user, school_class.school_id)
        or is_form_tutor(user, school_class)
        or (
            has_school_role(user, school_class.school_id, Role.TEACHER)
            and teaches_class(user, school_class.id)
        )
    )


def can_read_pupil(user: User, pupil: Pupil) -> bool:
    if is_guardian_of(user, pupil.id) or manages_register(user, pupil.school_id):
        return True
    if not has_school_role(user, pupil.school_id, Role.TEACHER):
        return False
    return is_form_tutor(user, pupil.school_class) or teaches_pupil(user, pupil)


def can_record_in_lesson(user: User, lesson: Lesson) -> bool:
    """Only the teacher who actually teaches the lesson (a substitute, when there is one)."""
    return (
        lesson.teacher_id == user.id
        and lesson.status != LessonStatus.CANCELLED
        and has_school_role(user, lesson.school_id, Role.TEACHER)
    )


def can_read_lesson(user: User, lesson: Lesson) -> bool:
    return (
        lesson.teacher_id == user.id
        or is_school_admin(user, lesson.school_id)
        or is_form_tutor(user, lesson.school_class)
    )


def can_manage_class(user: User, school_class: SchoolClass) -> bool:
    """Form-tutor duties: the class's excuses and notes; also the school administrator."""
    return is_form_tutor(user, school_class) or is_school_admin(user, school_class.school_id)
