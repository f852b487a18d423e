"""What a person may read live: their scope of pupils, classes and whole schools.

The same rules as the read predicates of `roles.py` (tests check the two agree for every user and
pupil of the test world), computed with a few set queries instead of one predicate call per
pupil: `/live` asks it at every resume and after every change of access. The realtime layer maps
a scope to Socket.IO rooms and to the journal rows a resume replays (`ediary/realtime/rooms.py`);
it knows nothing of guardians, tutors or teaching assignments.

District administrators see aggregates, never individual records: their scope holds no pupil,
class or school, only their gminas (`districts`), whose board is told when it changed
(`ediary/realtime/rooms.py`, `board_rooms`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, select

from ediary.db import db
from ediary.journal.catalogue import Audience
from ediary.people.models import Role, User
from ediary.schools.models import GroupMembership, Guardianship, Pupil, SchoolClass
from ediary.timetable.models import TeachingAssignment


@dataclass(frozen=True)
class Scope:
    """What one person sees live: pupils, classes (their lesson events), and whole schools."""

    pupils: frozenset[int] = field(default_factory=frozenset)
    classes: frozenset[int] = field(default_factory=frozenset)
    schools: frozenset[int] = field(default_factory=frozenset)
    districts: frozenset[int] = field(default_factory=frozenset)  # the board's signal, no events
    person: int | None = None  # the user themself: their messages (catalogue Audience.PERSON)

    def sees(self, audience: str, audience_id: int, school_id: int) -> bool:
        """Whether an event about `audience` (a catalogue audience) is in this scope."""
        if audience == Audience.PUPIL.value:
            return school_id in self.schools or audience_id in self.pupils
        if audience == Audience.CLASS.value:
            return school_id in self.schools or audience_id in self.classes
        if audience == Audience.PERSON.value:
            return self.person is not None and audience_id == self.person  # never a school's
        return False  # a kiosk's events go to the device, to no person


def _ids(query: object) -> set[int]:
    return set(db.session.scalars(query))  # type: ignore[call-overload]


def _schools_with(user: User, *roles: Role) -> set[int]:
    return {m.school_id for m in user.memberships if m.role in roles and m.school_id is not None}


def scope_of_user_id(user_id: int) -> Scope:
    """`scope_of` by id: an account that no longer exists sees nothing."""
    user = db.session.get(User, user_id)
    return scope_of(user) if user is not None else Scope()


def scope_of(user: User) -> Scope:
    """Everything `user` may read live, by the rules of `ediary.access.roles`."""
    register_schools = _schools_with(user, Role.SECRETARY, Role.SCHOOL_ADMIN)
    teacher_schools = _schools_with(user, Role.TEACHER)

    # A guardian's children, and their classes (whose lesson events guardians see).
    children = db.session.execute(
        select(Pupil.id, Pupil.class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.user_id == user.id)
    ).all()
    pupils = {pupil_id for pupil_id, _ in children}
    classes = {class_id for _, class_id in children}

    # can_read_class: a form tutor reads their class whatever their roles.
    tutored = _ids(select(SchoolClass.id).where(SchoolClass.form_tutor_id == user.id))
    classes |= tutored
    if teacher_schools:
        # can_read_pupil: a form tutor's pupils, when the tutor holds the teacher role there.
        pupils |= _ids(
            select(Pupil.id)
            .join(SchoolClass, SchoolClass.id == Pupil.class_id)
            .where(
                SchoolClass.form_tutor_id == user.id,
                Pupil.school_id.in_(teacher_schools),
            )
        )
        # teaches_class / teaches_pupil: assignments for whole classes or for groups of them.
        taught = TeachingAssignment.teacher_id == user.id
        classes |= _ids(
            select(TeachingAssignment.class_id).where(
                taught, TeachingAssignment.school_id.in_(teacher_schools)
            )
        )
        whole_class = select(TeachingAssignment.class_id).where(
            taught, TeachingAssignment.group_id.is_(None)
        )
        pupils |= _ids(
            select(Pupil.id).where(
                Pupil.school_id.in_(teacher_schools), Pupil.class_id.in_(whole_class)
            )
        )
        pupils |= _ids(
            select(Pupil.id)
            .join(GroupMembership, GroupMembership.pupil_id == Pupil.id)
            .join(
                TeachingAssignment,
                and_(
                    TeachingAssignment.group_id == GroupMembership.group_id,
                    TeachingAssignment.class_id == Pupil.class_id,
                ),
            )
            .where(taught, Pupil.school_id.in_(teacher_schools))
        )

    # Pupils and classes already covered by a whole school would only double the bookkeeping.
    if register_schools:
        pupils -= _ids(select(Pupil.id).where(Pupil.school_id.in_(register_schools)))
        classes -= _ids(select(SchoolClass.id).where(SchoolClass.school_id.in_(register_schools)))
    districts = {
        m.district_id
        for m in user.memberships
        if m.role is Role.DISTRICT_ADMIN and m.district_id is not None
    }
    return Scope(
        frozenset(pupils),
        frozenset(classes),
        frozenset(register_schools),
        frozenset(districts),
        person=user.id,
    )
