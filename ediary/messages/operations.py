"""Every write of messages and announcements (house rule 3): each takes its actor, checks what
the person sent, writes rows, history and journal events, and flushes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, exists, func, select

from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.errors import Conflict, Refusal
from ediary.journal.operations import publish
from ediary.messages.files import MAX_FILES, Upload, store
from ediary.messages.models import (
    Announcement,
    Message,
    MessageAttachment,
    MessageReceipt,
    MessageThread,
    ThreadParticipant,
    WorkingHours,
)
from ediary.notifications.models import NotificationPreference
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, SchoolClass

MAX_BODY = 5000
MAX_SUBJECT = 200
MAX_TITLE = 200
# A person sends at most this many messages (a class letter counts once) in FLOOD_WINDOW.
FLOOD_LIMIT = 10
FLOOD_WINDOW = dt.timedelta(minutes=10)
LONGEST_ANNOUNCEMENT = dt.timedelta(days=366)


def _sender(actor: Actor) -> User:
    if actor.user is None:
        raise Refusal("no_sender", _l("Wiadomość wysyła osoba zalogowana."))
    return actor.user


def _check_text(subject: str | None, body: str, uploads: Sequence[Upload]) -> tuple[str, str]:
    body = body.strip()
    if not body:
        raise Refusal("body_empty", _l("Wpisz treść wiadomości."))
    if len(body) > MAX_BODY:
        raise Refusal(
            "body_too_long",
            _l(
                "Wiadomość jest za długa (%(length)s znaków, najwyżej %(limit)s).",
                length=len(body),
                limit=MAX_BODY,
            ),
        )
    if len(uploads) > MAX_FILES:
        raise Refusal("too_many_files", _l("Najwyżej %(n)s załączniki.", n=MAX_FILES))
    subject = (subject or "").strip()
    if len(subject) > MAX_SUBJECT:
        raise Refusal("subject_too_long", _l("Temat jest za długi (najwyżej 200 znaków)."))
    return subject, body


def _check_flood(sender: User, now: dt.datetime) -> None:
    sendings = db.session.scalar(
        select(func.count(distinct(Message.sent_at))).where(
            Message.sender_id == sender.id, Message.sent_at > now - FLOOD_WINDOW
        )
    )
    if (sendings or 0) >= FLOOD_LIMIT:
        raise Refusal(
            "flood",
            _l(
                "Wysłano zbyt wiele wiadomości w krótkim czasie. Odczekaj kilka minut i wyślij "
                "ponownie; treść pozostała w formularzu."
            ),
        )


def unread_threads(user_id: int) -> int:
    """Threads with a message from someone else that `user_id` has not opened: the badge."""
    newer = exists().where(
        Message.thread_id == ThreadParticipant.thread_id,
        Message.id > ThreadParticipant.read_upto,
        Message.sender_id != user_id,
    )
    return (
        db.session.scalar(
            select(func.count())
            .select_from(ThreadParticipant)
            .where(ThreadParticipant.user_id == user_id, newer)
        )
        or 0
    )


def _add_message(
    thread: MessageThread, sender: User, body: str, uploads: Sequence[Upload], now: dt.datetime
) -> Message:
    message = Message(thread=thread, sender_id=sender.id, body=body, sent_at=now)
    db.session.add(message)
    for upload in uploads:
        message.attachments.append(
            MessageAttachment(
                name=upload.name, mime=upload.mime, size=len(upload.data), stored_as=store(upload)
            )
        )
    thread.last_message_at = now
    db.session.flush()
    for participant in thread.participants:
        if participant.user_id == sender.id:
            participant.read_upto = message.id  # one's own message is read
    db.session.flush()
    for participant in thread.participants:
        if participant.user_id != sender.id:
            publish(
                "message.received",
                school_id=thread.school_id,
                audience_id=participant.user_id,
                thread_id=thread.id,
                message_id=message.id,
                subject=thread.subject,
                sender=sender.full_name,
                unread=unread_threads(participant.user_id),
            )
    return message


def _new_thread(
    school_id: int, sender: User, others: Sequence[int], subject: str, now: dt.datetime
) -> MessageThread:
    thread = MessageThread(
        school_id=school_id,
        subject=subject or str(_l("(bez tematu)")),
        started_by_id=sender.id,
        started_at=now,
        last_message_at=now,
    )
    db.session.add(thread)
    for user_id in (sender.id, *others):
        thread.participants.append(ThreadParticipant(user_id=user_id))
    return thread


@operation
def start_thread(
    actor: Actor,
    *,
    recipient_id: int,
    school_id: int,
    subject: str,
    body: str,
    uploads: Sequence[Upload] = (),
) -> MessageThread:
    """A new thread with one person; the caller loaded the recipient (access.load_recipient)."""
    sender = _sender(actor)
    subject, body = _check_text(subject, body, uploads)
    now = utcnow()
    _check_flood(sender, now)
    thread = _new_thread(school_id, sender, [recipient_id], subject, now)
    _add_message(thread, sender, body, uploads, now)
    return thread


@operation
def write_to_class(
    actor: Actor,
    school_class: SchoolClass,
    *,
    subject: str,
    body: str,
    uploads: Sequence[Upload] = (),
) -> list[MessageThread]:
    """A letter to the guardians of a class: each parent gets their own copy, in a thread of
    their own with the sender, and answers it privately (as Librus does)."""
    sender = _sender(actor)
    subject, body = _check_text(subject, body, uploads)
    now = utcnow()
    _check_flood(sender, now)
    guardians = sorted(
        set(
            db.session.scalars(
                select(Guardianship.user_id)
                .join(Pupil, Pupil.id == Guardianship.pupil_id)
                .join(User, User.id == Guardianship.user_id)
                .where(
                    Pupil.class_id == school_class.id,
                    Pupil.active.is_(True),
                    User.active.is_(True),
                    Guardianship.user_id != sender.id,
                )
            )
        )
    )
    if not guardians:
        raise Refusal("no_guardians", _l("Ta klasa nie ma rodziców z kontem w dzienniku."))
    threads = []
    for guardian in guardians:
        thread = _new_thread(school_class.school_id, sender, [guardian], subject, now)
        _add_message(thread, sender, body, uploads, now)
        threads.append(thread)
    return threads


@operation
def reply(
    actor: Actor, thread: MessageThread, *, body: str, uploads: Sequence[Upload] = ()
) -> Message:
    sender = _sender(actor)
    if not any(p.user_id == sender.id for p in thread.participants):
        raise Refusal("not_in_thread", _l("Nie uczestniczysz w tej rozmowie."))
    _, body = _check_text(None, body, uploads)
    now = utcnow()
    _check_flood(sender, now)
    return _add_message(thread, sender, body, uploads, now)


@operation
def mark_read(actor: Actor, participant: ThreadParticipant) -> int:
    """The participant opened the thread: receipts for what others wrote since, and a
    `message.read` to each of their senders. Opening it again changes nothing."""
    reader = _sender(actor)
    unread = list(
        db.session.scalars(
            select(Message)
            .where(
                Message.thread_id == participant.thread_id,
                Message.id > participant.read_upto,
                Message.sender_id != reader.id,
            )
            .order_by(Message.id)
        )
    )
    if not unread:
        return 0
    now = utcnow()
    newest: dict[int, int] = {}
    for message in unread:
        message.receipts.append(MessageReceipt(user_id=reader.id, read_at=now))
        newest[message.sender_id] = message.id
    participant.read_upto = max(participant.read_upto, unread[-1].id)
    thread = participant.thread
    for sender_id, message_id in sorted(newest.items()):
        publish(
            "message.read",
            school_id=thread.school_id,
            audience_id=sender_id,
            thread_id=thread.id,
            message_id=message_id,
            reader=reader.full_name,
            read_at=now.isoformat(),
        )
    return len(unread)


@operation
def save_working_hours(
    actor: Actor,
    user: User,
    *,
    days: set[int],
    starts: dt.time,
    ends: dt.time,
    by_email: bool,
) -> WorkingHours:
    """A staff member's own hours, and whether messages are notified by e-mail at all."""
    if not days:
        raise Refusal("no_days", _l("Zaznacz co najmniej jeden dzień pracy."))
    if ends <= starts:
        raise Refusal("hours_invalid", _l("Koniec pracy musi być po jej początku."))
    hours = db.session.scalar(select(WorkingHours).where(WorkingHours.user_id == user.id))
    if hours is None:
        hours = WorkingHours(user_id=user.id)
        db.session.add(hours)
    hours.days = ",".join(str(d) for d in sorted(days))
    hours.starts, hours.ends = starts, ends
    preference = db.session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)
    )
    if by_email and not user.email:
        raise Refusal("no_email", _l("Najpierw podaj adres e-mail."))
    if preference is None and by_email:
        preference = NotificationPreference(user_id=user.id, first_absence=False)
        db.session.add(preference)
    if preference is not None:
        preference.email = by_email
        preference.message = True
    return hours


# --- announcements -------------------------------------------------------------------------


def _check_announcement(
    title: str, body: str, expires_on: dt.date | None, today: dt.date
) -> tuple[str, str, dt.date]:
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise Refusal("announcement_empty", _l("Wpisz tytuł i treść ogłoszenia."))
    if len(title) > MAX_TITLE:
        raise Refusal("title_too_long", _l("Tytuł jest za długi (najwyżej 200 znaków)."))
    if len(body) > MAX_BODY:
        raise Refusal(
            "body_too_long", _l("Treść jest za długa (najwyżej %(limit)s znaków).", limit=MAX_BODY)
        )
    if expires_on is None or expires_on < today or expires_on > today + LONGEST_ANNOUNCEMENT:
        raise Refusal(
            "expiry_invalid",
            _l("Podaj datę ważności od dziś do roku naprzód."),
        )
    return title, body, expires_on


@operation
def publish_announcement(
    actor: Actor,
    *,
    school_id: int,
    class_id: int | None,
    title: str,
    body: str,
    expires_on: dt.date | None,
    today: dt.date,
) -> Announcement:
    """Published once: one `announcement.published` per class it reaches (the e-mail goes
    once, with the event; editing it later notifies nobody again)."""
    author = _sender(actor)
    title, body, expiry = _check_announcement(title, body, expires_on, today)
    announcement = Announcement(
        school_id=school_id,
        class_id=class_id,
        author_id=author.id,
        title=title,
        body=body,
        expires_on=expiry,
    )
    db.session.add(announcement)
    db.session.flush()
    classes = (
        [class_id]
        if class_id is not None
        else list(
            db.session.scalars(
                select(SchoolClass.id)
                .where(SchoolClass.school_id == school_id)
                .order_by(SchoolClass.id)
            )
        )
    )
    for audience in classes:
        publish(
            "announcement.published",
            school_id=school_id,
            audience_id=audience,
            class_id=audience,
            announcement_id=announcement.id,
            title=title,
            expires_on=expiry.isoformat(),
            author=author.full_name,
        )
    return announcement


@operation
def edit_announcement(
    actor: Actor,
    announcement: Announcement,
    *,
    title: str,
    body: str,
    expires_on: dt.date | None,
    today: dt.date,
    base_version: int,
) -> Announcement:
    if announcement.version != base_version:
        raise Conflict("changed", _l("Ogłoszenie zmieniono w międzyczasie. Sprawdź je i popraw."))
    if announcement.withdrawn_at is not None:
        raise Refusal("withdrawn", _l("To ogłoszenie zostało wycofane."))
    announcement.title, announcement.body, announcement.expires_on = _check_announcement(
        title, body, expires_on, today
    )
    return announcement


@operation
def withdraw_announcement(
    actor: Actor, announcement: Announcement, *, base_version: int
) -> Announcement:
    if announcement.version != base_version:
        raise Conflict("changed", _l("Ogłoszenie zmieniono w międzyczasie. Sprawdź je i popraw."))
    if announcement.withdrawn_at is None:
        announcement.withdrawn_at = utcnow()
    return announcement
