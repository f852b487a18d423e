"""A parent's notification choices, a school's urgent topics, and queueing a reset e-mail."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.notifications.models import (
    DEFAULT_DIGEST_AT,
    DEFAULT_QUIET_FROM,
    DEFAULT_QUIET_UNTIL,
    Channel,
    MessageKind,
    NotificationPreference,
    OutgoingMessage,
    SchoolNotificationPolicy,
    Topic,
)
from ediary.notifications.texts import reset_body, reset_subject
from ediary.people.models import User
from ediary.schools.models import School


def preference_of(user: User) -> NotificationPreference:
    """The parent's saved choices, or the defaults (not stored until they save)."""
    found = db.session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)
    )
    return found or NotificationPreference(
        user_id=user.id,
        email=False,
        sms=False,
        first_absence=True,
        absence=False,
        grade=False,
        remark=False,
        first_cancelled=True,
        message=True,
        announcement=True,
        digest=False,
        digest_at=DEFAULT_DIGEST_AT,
        quiet_from=DEFAULT_QUIET_FROM,
        quiet_until=DEFAULT_QUIET_UNTIL,
    )


@operation
def save_preferences(
    actor: Actor,
    user: User,
    *,
    channels: set[Channel],
    topics: set[Topic],
    digest: bool,
    quiet_from: dt.time,
    quiet_until: dt.time,
) -> NotificationPreference:
    if Channel.EMAIL in channels and not user.email:
        raise Refusal("no_email", _l("Najpierw podaj adres e-mail w „Moje dane kontaktowe”."))
    if Channel.SMS in channels and not user.phone:
        raise Refusal("no_phone", _l("Najpierw podaj numer telefonu w „Moje dane kontaktowe”."))
    preference = preference_of(user)
    preference.email = Channel.EMAIL in channels
    preference.sms = Channel.SMS in channels
    for topic in Topic:
        setattr(preference, topic.value, topic in topics)
    preference.digest = digest
    preference.quiet_from, preference.quiet_until = quiet_from, quiet_until
    db.session.add(preference)
    return preference


@operation
def set_urgent_topics(actor: Actor, school: School, topics: set[Topic]) -> SchoolNotificationPolicy:
    """What the school sends even at night (e.g. "absent at the first lesson")."""
    policy = db.session.scalar(
        select(SchoolNotificationPolicy).where(SchoolNotificationPolicy.school_id == school.id)
    )
    if policy is None:
        policy = SchoolNotificationPolicy(school_id=school.id)
        db.session.add(policy)
    policy.urgent_topics = ",".join(sorted(t.value for t in topics))
    return policy


def queue_reset_email(user: User, link: str, minutes: int) -> OutgoingMessage:
    """The reset link goes out through the queue like any message (not inside the request)."""
    assert user.email
    message = OutgoingMessage(
        user_id=user.id,
        channel=Channel.EMAIL,
        kind=MessageKind.RESET,
        payload={"subject": reset_subject(), "body": reset_body(link, minutes)},
        urgent=True,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message
