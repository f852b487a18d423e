"""A parent's notification choices, a school's urgent events, and the queue of outgoing messages."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base, BigIntPK, utcnow
from ediary.enums import enum_column


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Topic(enum.StrEnum):
    """What a parent may choose to hear about outside the page (in-page pushes are always on)."""

    FIRST_ABSENCE = "first_absence"  # absent at the first lesson of the day: "did they arrive?"
    ABSENCE = "absence"  # any absence
    GRADE = "grade"
    REMARK = "remark"
    # The class's (group's) first lesson of the day is cancelled: sent before that lesson
    # (quiet hours end no later than half an hour before it: sender.py).
    FIRST_CANCELLED = "first_cancelled"
    MESSAGE = "message"  # a message (wiadomość) in the person's inbox: parents and staff alike
    ANNOUNCEMENT = "announcement"  # an announcement of the child's school or class
    EXCUSE_DECISION = "excuse_decision"  # the form tutor approved or rejected a parent's excuse


DEFAULT_QUIET_FROM = dt.time(21, 0)
DEFAULT_QUIET_UNTIL = dt.time(7, 0)
DEFAULT_DIGEST_AT = dt.time(18, 0)


class NotificationPreference(Audited, Base):
    """One parent's choices. No row means: nothing by e-mail or SMS (in-page only)."""

    __tablename__ = "notification_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    email: Mapped[bool] = mapped_column(default=False)
    sms: Mapped[bool] = mapped_column(default=False)
    first_absence: Mapped[bool] = mapped_column(default=True)
    absence: Mapped[bool] = mapped_column(default=False)
    grade: Mapped[bool] = mapped_column(default=False)
    remark: Mapped[bool] = mapped_column(default=False)
    first_cancelled: Mapped[bool] = mapped_column(default=True, server_default=true())
    message: Mapped[bool] = mapped_column(default=True, server_default=true())
    announcement: Mapped[bool] = mapped_column(default=True, server_default=true())
    # One message a day with everything instead of one per event (urgent ones still go at once).
    digest: Mapped[bool] = mapped_column(default=False)
    digest_at: Mapped[dt.time] = mapped_column(Time, default=DEFAULT_DIGEST_AT)
    quiet_from: Mapped[dt.time] = mapped_column(Time, default=DEFAULT_QUIET_FROM)
    quiet_until: Mapped[dt.time] = mapped_column(Time, default=DEFAULT_QUIET_UNTIL)

    def wants(self, topic: Topic) -> bool:
        # Topics without a column here (excuse decisions, messages) are Web Push only.
        return bool(getattr(self, topic.value, False))

    def channels(self) -> list[Channel]:
        return [c for c in Channel if getattr(self, c.value)]


class SchoolNotificationPolicy(Audited, Base):
    """What the school marks urgent: sent at once even in the parents' quiet hours."""

    __tablename__ = "school_notification_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), unique=True)
    urgent_topics: Mapped[str] = mapped_column(String(120), default="")  # comma-separated Topic

    def is_urgent(self, topic: Topic) -> bool:
        return topic.value in self.urgent_topics.split(",")


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; its lease says until when
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry
    DROPPED = "dropped"  # nothing to send to (no address any more, or the parent opted out)


class MessageKind(enum.StrEnum):
    EVENT = "event"
    RESET = "reset"  # a password reset link (e-mail)
    VERIFY = "verify"  # the proof of a new address (ediary/contacts): sent to that address


class OutgoingMessage(Base):
    """The durable queue: written in the transaction of the journal event it reports.

    Not `Audited`: it is delivery bookkeeping, and the events themselves are in the journal and
    the history. One row per (event, recipient, channel), so an event is never queued twice;
    `event_id` is not a foreign key because the journal is pruned after its retention.
    """

    __tablename__ = "outgoing_messages"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "channel"),
        Index("ix_outgoing_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind), default=MessageKind.EVENT)
    topic: Mapped[str | None] = mapped_column(String(20))
    event_type: Mapped[str | None] = mapped_column(String(40))
    # The event's fields as the journal had them (the journal may be pruned before sending).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(default=False)
    digest: Mapped[bool] = mapped_column(default=False)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(80))


# --- Web Push (RFC 8030/8291/8292): a parent's devices, their choices, and the push queue ------


class PushSubscription(Base):
    """One browser on one device of a parent, as its push service gave it (`pushManager.subscribe`).

    Not `Audited`: the endpoint is a capability URL (whoever holds it with the keys can write to
    the device) and the history is kept for years; what a parent chose to hear is in
    `PushChoice`. Removed when the parent switches the device off or the push service answers
    404/410 (the device unsubscribed or is gone).
    """

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))  # the device's P-256 public key, base64url
    auth: Mapped[str] = mapped_column(String(40))  # its 16-byte auth secret, base64url
    label: Mapped[str] = mapped_column(String(80), default="")  # "Chrome, Android": for the list
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PushChoice(Audited, Base):
    """A parent wants Web Push about `topic` for this child (on all their devices).

    One row per choice switched on: a new topic (a new `Topic` member) needs no column."""

    __tablename__ = "push_choices"
    __table_args__ = (UniqueConstraint("user_id", "pupil_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    topic: Mapped[str] = mapped_column(String(30))


class OutgoingPush(Base):
    """The push queue, like `OutgoingMessage`: written in the flush of the journal event, one
    row per (event, subscription) so a device never gets an event twice. `payload` holds only
    what the notification shows (see notifications/push.py). Not `Audited`: delivery
    bookkeeping."""

    __tablename__ = "outgoing_pushes"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_outgoing_pushes_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    subscription_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"))
    topic: Mapped[str] = mapped_column(String(30))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(32))  # the pass that holds the lease
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
