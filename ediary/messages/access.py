"""Who may write to whom, read which thread and post which announcement. Forbidden is 404.

A parent writes to the staff of their children's schools who serve the child: the child's
teachers, the form tutor, the school's secretaries and its director (school administrator).
Staff write to the guardians of pupils they may read (the access scope), and to the guardians
of a whole class they teach, tutor or direct. Everyone reads only the threads they take part in.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from werkzeug.exceptions import NotFound

from ediary.access.scope import scope_of
from ediary.db import db
from ediary.messages.models import (
    Announcement,
    Message,
    MessageAttachment,
    MessageThread,
    ThreadParticipant,
)
from ediary.people.models import Membership, Role, User
from ediary.schools.models import GroupMembership, Guardianship, Pupil, SchoolClass, Subject
from ediary.timetable.models import TeachingAssignment

STAFF_ROLES = (Role.TEACHER, Role.SECRETARY, Role.SCHOOL_ADMIN)


@dataclass(frozen=True)
class Recipient:
    user_id: int
    school_id: int
    name: str
    why: str  # "wychowawca 5a", "matematyka (5a)", "sekretariat", "dyrektor"


def is_staff(user: User) -> bool:
    return any(m.role in STAFF_ROLES for m in user.memberships)


def recipients_for(user: User) -> list[Recipient]:
    """Everyone `user` may start a thread with, each once (with every reason), by name."""
    found: dict[tuple[int, int], list[str]] = {}
    names: dict[int, str] = {}

    def add(person: User, school_id: int, why: str) -> None:
        if person.id == user.id or not person.active:
            return
        names[person.id] = person.full_name
        reasons = found.setdefault((person.id, school_id), [])
        if why not in reasons:
            reasons.append(why)

    children = list(
        db.session.scalars(
            select(Pupil)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(Guardianship.user_id == user.id, Pupil.active.is_(True))
        )
    )
    for child in children:
        school_class = child.school_class
        if school_class.form_tutor_id is not None:
            tutor = db.session.get(User, school_class.form_tutor_id)
            if tutor is not None:
                add(tutor, child.school_id, str(_l("wychowawca %(cls)s", cls=school_class.name)))
        groups = select(GroupMembership.group_id).where(GroupMembership.pupil_id == child.id)
        teaching = db.session.execute(
            select(User, Subject.name)
            .join(TeachingAssignment, TeachingAssignment.teacher_id == User.id)
            .join(Subject, Subject.id == TeachingAssignment.subject_id)
            .where(
                TeachingAssignment.class_id == child.class_id,
                or_(TeachingAssignment.group_id.is_(None), TeachingAssignment.group_id.in_(groups)),
            )
        ).all()
        for teacher, subject in teaching:
            add(teacher, child.school_id, f"{subject} ({school_class.name})")
        office = db.session.execute(
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.school_id == child.school_id,
                Membership.role.in_((Role.SECRETARY, Role.SCHOOL_ADMIN)),
            )
        ).all()
        for person, role in office:
            why = _l("sekretariat") if role is Role.SECRETARY else _l("dyrektor")
            add(person, child.school_id, str(why))
    if is_staff(user):
        for guardian, school_id, why in _guardians_in_scope(user):
            add(guardian, school_id, why)
    return sorted(
        (Recipient(uid, sid, names[uid], ", ".join(why)) for (uid, sid), why in found.items()),
        key=lambda r: (r.name, r.school_id),
    )


def _guardians_in_scope(user: User) -> list[tuple[User, int, str]]:
    scope = scope_of(user)
    query = (
        select(User, Pupil)
        .join(Guardianship, Guardianship.user_id == User.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(
            Pupil.active.is_(True),
            or_(Pupil.id.in_(sorted(scope.pupils)), Pupil.school_id.in_(sorted(scope.schools))),
        )
        .order_by(Pupil.last_name, Pupil.first_name)
    )
    return [
        (guardian, pupil.school_id, str(_l("rodzic: %(pupil)s", pupil=pupil.full_name)))
        for guardian, pupil in db.session.execute(query)
    ]


def load_recipient(user: User, recipient_id: int) -> Recipient:
    for recipient in recipients_for(user):
        if recipient.user_id == recipient_id:
            return recipient
    raise NotFound()


def letter_classes(user: User) -> list[SchoolClass]:
    """The classes whose guardians `user` may write to at once: tutored, taught, or (the
    director) every class of their school."""
    directed = [m.school_id for m in user.memberships if m.role is Role.SCHOOL_ADMIN]
    teaching = [m.school_id for m in user.memberships if m.role is Role.TEACHER]
    taught = select(TeachingAssignment.class_id).where(
        TeachingAssignment.teacher_id == user.id, TeachingAssignment.school_id.in_(teaching)
    )
    return list(
        db.session.scalars(
            select(SchoolClass)
            .where(
                or_(
                    SchoolClass.form_tutor_id == user.id,
                    SchoolClass.id.in_(taught),
                    SchoolClass.school_id.in_(directed),
                )
            )
            .order_by(SchoolClass.school_id, SchoolClass.grade_level, SchoolClass.name)
        )
    )


def load_letter_class(user: User, class_id: int) -> SchoolClass:
    for school_class in letter_classes(user):
        if school_class.id == class_id:
            return school_class
    raise NotFound()


def participant_of(user: User, thread_id: int) -> ThreadParticipant:
    """The user's place in the thread; a thread they are not in is missing."""
    found = db.session.scalar(
        select(ThreadParticipant).where(
            ThreadParticipant.thread_id == thread_id, ThreadParticipant.user_id == user.id
        )
    )
    if found is None:
        raise NotFound()
    return found


def may_reply(user: User, thread: MessageThread) -> bool:
    """Staff answer in their threads; a parent only while the others still serve their
    children (a parent whose child left the school reads the old thread but writes no more)."""
    if is_staff(user):
        return True
    reachable = {r.user_id for r in recipients_for(user)}
    return all(p.user_id in reachable for p in thread.participants if p.user_id != user.id)


def load_thread(user: User, thread_id: int) -> MessageThread:
    return participant_of(user, thread_id).thread


def load_attachment(user: User, attachment_id: int) -> MessageAttachment:
    attachment = db.session.get(MessageAttachment, attachment_id)
    if attachment is None:
        raise NotFound()
    message = db.session.get_one(Message, attachment.message_id)
    participant_of(user, message.thread_id)
    return attachment


# --- announcements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Where an announcement may go: a whole school (class None) or one class."""

    school_id: int
    class_id: int | None
    label: str


def announcement_audiences(user: User) -> list[Audience]:
    """The director's school, and the form tutor's classes."""
    found = [
        Audience(m.school_id, None, str(_l("cała szkoła")))
        for m in user.memberships
        if m.role is Role.SCHOOL_ADMIN and m.school_id is not None
    ]
    for school_class in db.session.scalars(
        select(SchoolClass).where(SchoolClass.form_tutor_id == user.id).order_by(SchoolClass.name)
    ):
        found.append(
            Audience(
                school_class.school_id, school_class.id, str(_l("klasa %(c)s", c=school_class.name))
            )
        )
    return found


def load_own_announcement(user: User, announcement_id: int) -> Announcement:
    """Only the author edits or withdraws an announcement."""
    found = db.session.get(Announcement, announcement_id)
    if found is None or found.author_id != user.id:
        raise NotFound()
    return found
