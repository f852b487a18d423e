"""Which Socket.IO rooms a person's `/live` socket joins, and which rooms an event goes to.

The rooms mirror the read predicates of `ediary/access/roles.py` (tests check the two agree for
every user and pupil of the test world), computed with a few set queries instead of one predicate
call per pupil:

- `pupil:<id>` for each pupil the person may read individually (a guardian's children, a form
  tutor's class, the pupils a teacher teaches);
- `class:<id>` for each class whose lesson events they see (guardians see their children's
  classes, catalogue `Audience.CLASS`);
- `school:<id>` for secretaries and school administrators, who read the whole school: one room
  instead of hundreds of pupil rooms;
- `user:<id>` (control only: revocation finds a person's sockets through it, no event goes there).

On `/kiosk`, a device's socket is in `kiosk:<id>` (its own events) and, while its screen shows a
lesson it loaded the roster of, in `lesson:<id>`: the relay also sends that lesson's roll and
topic events there (`lesson_rooms`), so the roster follows changes made elsewhere.

District administrators see aggregates, never individual records: they join no event room.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_, select

from ediary.db import db
from ediary.journal.catalogue import Audience
from ediary.journal.models import JournalEvent
from ediary.people.models import Role, User
from ediary.schools.models import GroupMembership, Guardianship, Pupil, SchoolClass
from ediary.timetable.models import TeachingAssignment

LIVE = "/live"
KIOSK = "/kiosk"

# Events of these audiences go to people; kiosk events go to one device (the /kiosk namespace).
PEOPLE_AUDIENCES = (Audience.PUPIL.value, Audience.CLASS.value)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def kiosk_room(kiosk_id: int) -> str:
    return f"{Audience.KIOSK.value}:{kiosk_id}"


# Journal events a kiosk showing the lesson applies to its roster (they carry `lesson_id`).
LESSON_EVENTS = frozenset({"attendance.recorded", "lesson.topic", "lesson.cancelled"})


def lesson_room(lesson_id: int) -> str:
    """The `/kiosk` room of the sockets whose screen shows this lesson (kiosks/sockets.py)."""
    return f"lesson:{lesson_id}"


def lesson_rooms(message: dict[str, object]) -> list[str]:
    """The `/kiosk` rooms a journal message also goes to: its lesson's, for a roll or topic
    change (the kiosk there already shows that lesson's roster, so it learns nothing new)."""
    lesson_id = message.get("lesson_id")
    if message.get("type") in LESSON_EVENTS and isinstance(lesson_id, int):
        return [lesson_room(lesson_id)]
    return []


@dataclass(frozen=True)
class Scope:
    """What one person sees live: pupils, classes, and whole schools."""

    pupils: frozenset[int] = field(default_factory=frozenset)
    classes: frozenset[int] = field(default_factory=frozenset)
    schools: frozenset[int] = field(default_factory=frozenset)

    def rooms(self) -> set[str]:
        return (
            {f"{Audience.PUPIL.value}:{p}" for p in self.pupils}
            | {f"{Audience.CLASS.value}:{c}" for c in self.classes}
            | {f"school:{s}" for s in self.schools}
        )

    def sees(self, audience: str, audience_id: int, school_id: int) -> bool:
        if audience not in PEOPLE_AUDIENCES:
            return False
        if school_id in self.schools:
            return True
        if audience == Audience.PUPIL.value:
            return audience_id in self.pupils
        return audience_id in self.classes

    def journal_filter(self) -> ColumnElement[bool]:
        """The same rule as `sees`, as a WHERE clause on the journal (for replay)."""
        clauses: list[ColumnElement[bool]] = []
        if self.pupils:
            clauses.append(
                and_(
                    JournalEvent.audience == Audience.PUPIL.value,
                    JournalEvent.audience_id.in_(sorted(self.pupils)),
                )
            )
        if self.classes:
            clauses.append(
                and_(
                    JournalEvent.audience == Audience.CLASS.value,
                    JournalEvent.audience_id.in_(sorted(self.classes)),
                )
            )
        if self.schools:
            clauses.append(
                and_(
                    JournalEvent.audience.in_(PEOPLE_AUDIENCES),
                    JournalEvent.school_id.in_(sorted(self.schools)),
                )
            )
        return or_(*clauses) if clauses else false()


def event_rooms(audience: str, audience_id: int, school_id: int) -> tuple[str, list[str]]:
    """The namespace and rooms an event is emitted to (the inverse of `Scope.rooms`)."""
    if audience not in PEOPLE_AUDIENCES:
        return KIOSK, [f"{audience}:{audience_id}"]
    return LIVE, [f"{audience}:{audience_id}", f"school:{school_id}"]


def _ids(query: object) -> set[int]:
    return set(db.session.scalars(query))  # type: ignore[call-overload]


def _schools_with(user: User, *roles: Role) -> set[int]:
    return {m.school_id for m in user.memberships if m.role in roles and m.school_id is not None}


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

    # Rooms already covered by a whole-school room would only double the bookkeeping.
    if register_schools:
        pupils -= _ids(select(Pupil.id).where(Pupil.school_id.in_(register_schools)))
        classes -= _ids(select(SchoolClass.id).where(SchoolClass.school_id.in_(register_schools)))
    return Scope(frozenset(pupils), frozenset(classes), frozenset(register_schools))
