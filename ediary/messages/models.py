"""Threads of messages between a family and the school's staff, read receipts, attachments, a
teacher's working hours (the right to disconnect), and announcements.

A message is never edited nor deleted: it is correspondence between the school and a family, and
both sides must be able to show what was written and when (Librus and VULCAN keep them too). So
no "delete" is offered; a thread only leaves the inbox's first page as newer ones arrive.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow

DEFAULT_WORK_FROM = dt.time(7, 30)
DEFAULT_WORK_UNTIL = dt.time(16, 0)
DEFAULT_WORK_DAYS = "0,1,2,3,4"  # Monday to Friday (date.weekday())


class MessageThread(Audited, Base):
    __tablename__ = "message_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    participants: Mapped[list[ThreadParticipant]] = relationship(
        back_populates="thread", order_by="ThreadParticipant.id"
    )
    messages: Mapped[list[Message]] = relationship(back_populates="thread", order_by="Message.id")


class ThreadParticipant(Audited, Base):
    __tablename__ = "message_participants"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The newest message of the thread this person has opened (0: none): the inbox's badge.
    read_upto: Mapped[int] = mapped_column(default=0)

    thread: Mapped[MessageThread] = relationship(back_populates="participants")


class Message(Audited, Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    thread: Mapped[MessageThread] = relationship(back_populates="messages")
    attachments: Mapped[list[MessageAttachment]] = relationship(order_by="MessageAttachment.id")
    receipts: Mapped[list[MessageReceipt]] = relationship(order_by="MessageReceipt.read_at")


class MessageAttachment(Base):
    """A file sent with a message: stored under MESSAGE_FILES_DIR with a random name, its type
    sniffed from its bytes, served only as a download to the thread's participants."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))  # what the sender's device called it
    mime: Mapped[str] = mapped_column(String(60))
    size: Mapped[int]
    stored_as: Mapped[str] = mapped_column(String(64))


class MessageReceipt(Base):
    """Who read a message, and when (shown to the sender): the first opening only."""

    __tablename__ = "message_receipts"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    read_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkingHours(Audited, Base):
    """A staff member's working hours: notifications of messages wait for them. No row: the
    defaults (Monday to Friday, 7:30 to 16:00, Warsaw time)."""

    __tablename__ = "working_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    days: Mapped[str] = mapped_column(String(20), default=DEFAULT_WORK_DAYS)
    starts: Mapped[dt.time] = mapped_column(Time, default=DEFAULT_WORK_FROM)
    ends: Mapped[dt.time] = mapped_column(Time, default=DEFAULT_WORK_UNTIL)


class Announcement(Audited, Base):
    """An announcement of the school (class_id None: by the director) or of a class (by its form
    tutor), shown until `expires_on` (inclusive). Edits and withdrawal are history rows."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_school_expiry", "school_id", "expires_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
