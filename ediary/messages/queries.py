"""What the inbox, a thread and the start pages show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, or_, select

from ediary.db import db
from ediary.messages.models import Announcement, Message, MessageThread, ThreadParticipant
from ediary.people.models import Role, User
from ediary.schools.models import Guardianship, Pupil, SchoolClass
from ediary.timetable.models import TeachingAssignment

INBOX_PAGE = 50


@dataclass(frozen=True)
class InboxLine:
    thread: MessageThread
    others: str
    unread: bool


def inbox(user: User) -> list[InboxLine]:
    newer = exists().where(
        Message.thread_id == ThreadParticipant.thread_id,
        Message.id > ThreadParticipant.read_upto,
        Message.sender_id != user.id,
    )
    rows = db.session.execute(
        select(MessageThread, newer)
        .join(ThreadParticipant, ThreadParticipant.thread_id == MessageThread.id)
        .where(ThreadParticipant.user_id == user.id)
        .order_by(MessageThread.last_message_at.desc(), MessageThread.id.desc())
        .limit(INBOX_PAGE)
    ).all()
    names = _names({p.user_id for thread, _ in rows for p in thread.participants})
    return [
        InboxLine(
            thread,
            ", ".join(names[p.user_id] for p in thread.participants if p.user_id != user.id),
            bool(unread),
        )
        for thread, unread in rows
    ]


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {
        u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))
    }


def names_in(thread: MessageThread) -> dict[int, str]:
    return _names({p.user_id for p in thread.participants} | {m.sender_id for m in thread.messages})


def current_announcements_for_pupil(pupil: Pupil, today: dt.date) -> list[Announcement]:
    """The school's and the class's announcements that have not expired nor been withdrawn."""
    return list(
        db.session.scalars(
            select(Announcement)
            .where(
                Announcement.school_id == pupil.school_id,
                or_(Announcement.class_id.is_(None), Announcement.class_id == pupil.class_id),
                Announcement.withdrawn_at.is_(None),
                Announcement.expires_on >= today,
            )
            .order_by(Announcement.published_at.desc())
        )
    )


def current_announcements_for_staff(user: User, today: dt.date) -> list[Announcement]:
    """Staff see their schools' announcements and those of the classes they tutor or teach."""
    schools = [
        m.school_id
        for m in user.memberships
        if m.school_id is not None and m.role in (Role.TEACHER, Role.SECRETARY, Role.SCHOOL_ADMIN)
    ]
    if not schools:
        return []
    taught = select(TeachingAssignment.class_id).where(TeachingAssignment.teacher_id == user.id)
    tutored = select(SchoolClass.id).where(SchoolClass.form_tutor_id == user.id)
    office = [
        m.school_id for m in user.memberships if m.role in (Role.SECRETARY, Role.SCHOOL_ADMIN)
    ]
    return list(
        db.session.scalars(
            select(Announcement)
            .where(
                Announcement.school_id.in_(schools),
                or_(
                    Announcement.class_id.is_(None),
                    Announcement.class_id.in_(taught),
                    Announcement.class_id.in_(tutored),
                    Announcement.school_id.in_(office),
                ),
                Announcement.withdrawn_at.is_(None),
                Announcement.expires_on >= today,
            )
            .order_by(Announcement.published_at.desc())
        )
    )


def announcements_by(user: User) -> list[Announcement]:
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.author_id == user.id)
            .order_by(Announcement.published_at.desc())
            .limit(100)
        )
    )


def guardian_of_any(user: User) -> bool:
    return bool(db.session.scalar(select(exists().where(Guardianship.user_id == user.id))))
