"""Sends the queued messages, outside any request: `ediary send-notifications` (once, or looping).

One pass: leases that a crashed sender left behind expire back to pending; then every due
message is, in this order, held until the parent's quiet hours end (unless the school marked its
topic urgent), claimed (a conditional UPDATE: two senders never take the same row), sent, and
marked sent, or rescheduled with exponential backoff, or failed for good. Digest messages due for
one parent and channel go out as one message.

Exactly once as far as the queue can tell: a row is unique per (event, recipient, channel) and
is sent only by the sender that claimed it. The one window left is a crash after the provider
accepted a message and before "sent" is committed: the lease expires and the row is sent again.
SMSAPI closes it (the same `idx` with `check_idx` is refused); SMTP has no such check, so an
e-mail may then arrive twice, with the same Message-ID (mail clients show it once).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select, update

from ediary.contacts.models import ContactKind
from ediary.contacts.queries import verification_address, verified_address
from ediary.db import db, utcnow
from ediary.notifications.gateways import Gateway, Outgoing, SendFailed, SmsApiGateway, SmtpGateway
from ediary.notifications.models import (
    DEFAULT_QUIET_FROM,
    DEFAULT_QUIET_UNTIL,
    Channel,
    MessageKind,
    MessageStatus,
    NotificationPreference,
    OutgoingMessage,
    Topic,
)
from ediary.notifications.texts import digest_subject, event_line, event_subject, with_link
from ediary.people.models import User
from ediary.schools.models import Pupil

log = logging.getLogger(__name__)
WARSAW = ZoneInfo("Europe/Warsaw")
LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8
BATCH = 200


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at 2 hours: a provider's outage is waited out."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 7200))


def quiet_until(now: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime | None:
    """When the quiet hours around `now` end, or None if `now` is not in them (Warsaw time)."""
    local = now.astimezone(WARSAW)
    clock = local.time()
    if start == end:
        return None
    overnight = start > end
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date() + dt.timedelta(days=1) if overnight and clock >= start else local.date()
    return dt.datetime.combine(day, end, tzinfo=WARSAW).astimezone(dt.UTC)


FIRST_CANCELLED_LEAD = dt.timedelta(minutes=30)


def before_lesson(
    message: OutgoingMessage, resume: dt.datetime | None, now: dt.datetime
) -> dt.datetime | None:
    """A cancelled first lesson is news only before it: quiet hours that end later than half an
    hour before the lesson end then for it (sent at once if that moment has passed)."""
    before = message.payload.get("before") if message.topic == Topic.FIRST_CANCELLED else None
    if resume is None or before is None:
        return resume
    latest = dt.datetime.fromisoformat(before) - FIRST_CANCELLED_LEAD
    if latest <= now:
        return None
    return min(resume, latest)


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)


def gateways_from_config(app: Flask) -> dict[Channel, Gateway]:
    """The configured gateways; a channel without configuration sends nothing (rows wait)."""
    config = app.config
    found: dict[Channel, Gateway] = {}
    if config.get("SMTP_HOST"):
        found[Channel.EMAIL] = SmtpGateway(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            sender=config["MAIL_FROM"],
            user=config["SMTP_USER"],
            password=config["SMTP_PASSWORD"],
            starttls=bool(config["SMTP_STARTTLS"]),
        )
    if config.get("SMSAPI_TOKEN"):
        found[Channel.SMS] = SmsApiGateway(
            url=config["SMSAPI_URL"], token=config["SMSAPI_TOKEN"], sender=config["SMS_SENDER"]
        )
    return found


class Sender:
    def __init__(
        self,
        app: Flask,
        gateways: dict[Channel, Gateway],
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.app = app
        self.gateways = gateways
        self.clock = clock or (lambda: utcnow())
        self.portal_url = app.config["PUBLIC_URL"].rstrip("/") + "/portal"

    def run_once(self) -> Report:
        report = Report()
        now = self.clock()
        self._expire_leases(now)
        due = list(
            db.session.scalars(
                select(OutgoingMessage)
                .where(
                    OutgoingMessage.status == MessageStatus.PENDING,
                    OutgoingMessage.next_attempt_at <= now,
                    OutgoingMessage.channel.in_(list(self.gateways)),
                )
                .order_by(OutgoingMessage.id)
                .limit(BATCH)
            )
        )
        db.session.commit()
        groups: dict[tuple[int, Channel, bool], list[OutgoingMessage]] = defaultdict(list)
        for message in due:
            groups[(message.user_id, message.channel, message.digest)].append(message)
        for (_user_id, _channel, digest), messages in groups.items():
            batches = [messages] if digest else [[m] for m in messages]
            for batch in batches:
                self._deliver(batch, now, report)
        return report

    def _expire_leases(self, now: dt.datetime) -> None:
        db.session.execute(
            update(OutgoingMessage)
            .where(
                OutgoingMessage.status == MessageStatus.SENDING,
                OutgoingMessage.lease_until < now,
            )
            .values(status=MessageStatus.PENDING, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def _deliver(self, batch: list[OutgoingMessage], now: dt.datetime, report: Report) -> None:
        first = batch[0]
        user = db.session.get(User, first.user_id)
        address = self._address(user, first)
        if user is None or address is None or not self._still_wanted(user, first):
            self._finish(batch, MessageStatus.DROPPED, now)
            report.dropped += len(batch)
            return
        if first.kind is MessageKind.EVENT and not all(m.urgent for m in batch):
            resume = before_lesson(first, self._quiet_end(user, now), now)
            if resume is not None:
                self._reschedule(batch, resume)
                report.held += len(batch)
                return
        if not self._claim(batch, now):
            return  # another sender took them
        outgoing = self._compose(batch, address)
        try:
            provider_id = self.gateways[first.channel].send(outgoing)
        except SendFailed as failure:
            self._failed(batch, failure, now, report)
            return
        for message in batch:
            message.status = MessageStatus.SENT
            message.sent_at = self.clock()
            message.provider_id = provider_id[:80]
            message.lease_until = None
            message.last_error = None
            if message.kind in (MessageKind.RESET, MessageKind.VERIFY):
                message.payload = {}  # the link or code is a credential: not kept once it left
        db.session.commit()
        report.sent += len(batch)

    @staticmethod
    def _address(user: User | None, message: OutgoingMessage) -> str | None:
        """A proof goes to the new address it proves, if that still waits for it; everything
        else only to the address of the channel its owner proved last (ediary/contacts)."""
        if user is None or not user.active:
            return None
        if message.kind is MessageKind.VERIFY:
            return verification_address(user.id, message.payload)
        kind = ContactKind.EMAIL if message.channel is Channel.EMAIL else ContactKind.PHONE
        return verified_address(user.id, kind)

    @staticmethod
    def _still_wanted(user: User, message: OutgoingMessage) -> bool:
        """A parent who switched the channel off after the event was queued is not messaged."""
        if message.kind is not MessageKind.EVENT:
            return True
        preference = db.session.scalar(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
        return preference is not None and bool(getattr(preference, message.channel.value))

    @staticmethod
    def _quiet_end(user: User, now: dt.datetime) -> dt.datetime | None:
        preference = db.session.scalar(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
        start = preference.quiet_from if preference is not None else DEFAULT_QUIET_FROM
        end = preference.quiet_until if preference is not None else DEFAULT_QUIET_UNTIL
        return quiet_until(now, start, end)

    def _claim(self, batch: list[OutgoingMessage], now: dt.datetime) -> bool:
        ids = [m.id for m in batch]
        result = db.session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id.in_(ids), OutgoingMessage.status == MessageStatus.PENDING)
            .values(
                status=MessageStatus.SENDING,
                lease_until=now + LEASE,
                attempts=OutgoingMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(ids):  # type: ignore[attr-defined]
            db.session.rollback()
            return False
        db.session.commit()
        for message in batch:
            db.session.refresh(message)
        return True

    def _compose(self, batch: list[OutgoingMessage], address: str) -> Outgoing:
        first = batch[0]
        # SMSAPI takes numbers as digits with the country code (48...), not E.164's "+".
        to = address.lstrip("+") if first.channel is Channel.SMS else address
        key = f"ediary-{first.id}"
        with force_locale("pl"):
            if first.kind in (MessageKind.RESET, MessageKind.VERIFY):
                return Outgoing(to, first.payload["subject"], first.payload["body"], key)
            names = self._children({m.payload.get("pupil_id") for m in batch})
            lines = [
                event_line(m.topic or "", m.payload, names.get(m.payload.get("pupil_id"), ""))
                for m in batch
            ]
            child = names.get(first.payload.get("pupil_id"), "")
            subject = digest_subject() if first.digest else event_subject(first.topic or "", child)
            body = "\n".join(lines)
            if first.channel is Channel.SMS:
                body = with_link(" ".join(lines), self.portal_url)
            else:
                body = with_link(body + "\n\n", self.portal_url)
        return Outgoing(to, subject, body, key)

    @staticmethod
    def _children(ids: Iterable[object]) -> dict[object, str]:
        wanted = [i for i in ids if isinstance(i, int)]
        if not wanted:
            return {}
        rows = db.session.execute(select(Pupil.id, Pupil.first_name).where(Pupil.id.in_(wanted)))
        return {pupil_id: name for pupil_id, name in rows}

    def _failed(
        self, batch: list[OutgoingMessage], failure: SendFailed, now: dt.datetime, report: Report
    ) -> None:
        for message in batch:
            message.last_error = failure.reason[:500]
            message.lease_until = None
            if failure.permanent or message.attempts >= MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
            else:
                message.status = MessageStatus.PENDING
                message.next_attempt_at = now + backoff(message.attempts)
        db.session.commit()
        # The reason names no child and no address: logs hold no pupil data.
        log.warning("message %s not sent: %s", batch[0].id, failure.reason)
        if failure.permanent or batch[0].attempts >= MAX_ATTEMPTS:
            report.failed += len(batch)
        else:
            report.retried += len(batch)
        report.errors.append(failure.reason)

    @staticmethod
    def _reschedule(batch: list[OutgoingMessage], when: dt.datetime) -> None:
        for message in batch:
            message.next_attempt_at = when
        db.session.commit()

    @staticmethod
    def _finish(batch: list[OutgoingMessage], status: MessageStatus, now: dt.datetime) -> None:
        for message in batch:
            message.status = status
            message.lease_until = None
            if message.kind in (MessageKind.RESET, MessageKind.VERIFY):
                message.payload = {}
        db.session.commit()
