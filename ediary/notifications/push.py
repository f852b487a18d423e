"""Web Push to parents' devices: the standard protocol (RFC 8030), its encryption (RFC 8291,
aes128gcm) and the server's signature (VAPID, RFC 8292), through pywebpush / py-vapid / http-ece.

- `check_endpoint`: a subscription's endpoint must be https on a public address (SSRF: the
  server is never made to POST to the school's network); `PUSH_ALLOW_HOSTS` names hosts allowed
  anyway (the tests' local fake push service; `ediary check --deploy` refuses it in production).
- `notification_of`: what a notification shows, and nothing more: a title, one line, and the
  relative portal URL its click opens (the child's id is in portal URLs already).
- `PushSender`: sends the queue (`OutgoingPush`, written with the journal event by
  `pushqueue.py`) like `sender.Sender` sends e-mail: leases, retries with backoff, quiet hours
  (urgent topics excepted), never twice per (event, subscription); 404/410 from the push
  service removes the subscription. Pushes go out concurrently (a lesson start means thousands).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask_babel import force_locale
from py_vapid import Vapid02
from pywebpush import WebPusher
from sqlalchemy import and_, delete, select, tuple_, update
from urllib3.util.retry import Retry

from ediary.db import db, utcnow
from ediary.notifications.models import (
    DEFAULT_QUIET_FROM,
    DEFAULT_QUIET_UNTIL,
    MessageStatus,
    NotificationPreference,
    OutgoingPush,
    PushChoice,
    PushSubscription,
)
from ediary.notifications.sender import LEASE, MAX_ATTEMPTS, Report, backoff, quiet_until
from ediary.notifications.texts import event_line, event_subject
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil

log = logging.getLogger(__name__)

MAX_ENDPOINT = 1000
MAX_KEY = 100  # a P-256 point is 65 bytes: 87 characters of base64url
BATCH = 2000
WORKERS = 32
TTL = 12 * 3600  # a push service keeps an undelivered notification this long (seconds)
JWT_LIFETIME = 12 * 3600  # RFC 8292: at most 24 hours
JWT_REUSE = 3600  # a signed JWT is reused for an audience this long


class BadSubscription(ValueError):
    """A subscription refused: `code` for the tests and logs, never the endpoint itself."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- keys -----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_vapid_private_key() -> str:
    """A fresh P-256 private key as base64url of its 32 raw bytes (EDIARY_VAPID_PRIVATE_KEY)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64(key.private_numbers().private_value.to_bytes(32, "big"))


def vapid_of(private_key: str) -> Vapid02:
    return Vapid02.from_raw(private_key.encode())


def vapid_public_key(private_key: str) -> str:
    """The application server key the browser's `pushManager.subscribe` takes (base64url of
    the uncompressed point)."""
    raw = vapid_of(private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(raw)


def push_configured(app: Flask) -> bool:
    return bool(app.config.get("VAPID_PRIVATE_KEY"))


# --- refusing bad subscriptions ----------------------------------------------------------------


def _allowed(netloc: str, host: str, allow_hosts: Iterable[str]) -> bool:
    allowed = {h.strip().lower() for h in allow_hosts if h.strip()}
    return netloc.lower() in allowed or host.lower() in allowed


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_endpoint(
    endpoint: str,
    allow_hosts: Iterable[str] = (),
    resolve: Callable[[str, int], list[str]] | None = None,
) -> None:
    """Raise `BadSubscription` unless `endpoint` is an https URL whose host is, and resolves
    only to, public addresses (or is one of `allow_hosts`, for the tests' local service)."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise BadSubscription("endpoint_length")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise BadSubscription("endpoint_invalid") from None
    host = parts.hostname or ""
    if not host or parts.username is not None or parts.password is not None:
        raise BadSubscription("endpoint_invalid")
    if _allowed(parts.netloc, host, allow_hosts):
        if parts.scheme not in ("https", "http"):
            raise BadSubscription("endpoint_not_https")
        return
    if parts.scheme != "https":
        raise BadSubscription("endpoint_not_https")
    try:
        addresses = (resolve or _resolve)(host, port or 443)
    except OSError:
        raise BadSubscription("endpoint_unresolved") from None
    if not addresses or not all(_public(a) for a in addresses):
        raise BadSubscription("endpoint_private")


def _resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def check_keys(p256dh: object, auth: object) -> tuple[str, str]:
    """The device's public key (a P-256 point) and auth secret (16 bytes), both base64url."""
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise BadSubscription("keys_missing")
    if len(p256dh) > MAX_KEY or len(auth) > 40:
        raise BadSubscription("keys_too_long")
    try:
        point = _unb64(p256dh)
        secret = _unb64(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        raise BadSubscription("keys_invalid") from None
    if len(point) != 65 or len(secret) != 16:
        raise BadSubscription("keys_invalid")
    return p256dh, auth


# --- what a notification shows ------------------------------------------------------------------

# Topic → the child's portal page a click opens (after /portal/<child id>). A topic not named
# here opens the child's start page, or the portal's for an event about no child.
PAGES = {
    "first_absence": "/attendance",
    "absence": "/attendance",
    "grade": "/grades",
    "remark": "/remarks",
    "excuse_decision": "/excuses",
}


def page_of(topic: str, pupil_id: int | None) -> str:
    if topic == "message":
        return "/messages"  # the inbox: the thread's id stays out of the push service's sight
    if pupil_id is None:
        return "/portal/"
    return f"/portal/{int(pupil_id)}{PAGES.get(topic, '')}"


def notification_of(push: OutgoingPush, child: str) -> dict[str, str]:
    """Title, one line and the page to open: what the screen shows, no more (no teacher's
    name, no remark text, no other child)."""
    with force_locale("pl"):
        return {
            "title": event_subject(push.topic, child),
            "body": event_line(push.topic, push.payload, child),
            "url": page_of(push.topic, push.pupil_id),
            "tag": f"ediary-{push.event_id}",
        }


# --- sending -----------------------------------------------------------------------------------


@dataclass
class PushResult:
    status: int  # the push service's HTTP status; 0: no answer
    retry_after: float | None = None
    reason: str = ""


@dataclass
class PushGateway:
    """POSTs encrypted notifications with a VAPID signature to the subscriptions' push services."""

    private_key: str
    subject: str
    allow_hosts: list[str] = field(default_factory=list)
    timeout: float = 10.0
    workers: int = WORKERS

    def __post_init__(self) -> None:
        self.vapid = vapid_of(self.private_key)
        self.session = requests.Session()
        # A connection that could not be made (or a kept-alive one the service had closed) is
        # tried again at once: nothing was sent on it. Nothing else is retried here.
        retry = Retry(total=2, connect=2, read=0, redirect=0, status=0, other=0)
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=16, pool_maxsize=self.workers, max_retries=retry
        )
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._signed: dict[str, tuple[float, dict[str, str]]] = {}
        self._resolved: dict[str, float] = {}

    def vapid_headers(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        cached = self._signed.get(audience)
        if cached is None or now - cached[0] > JWT_REUSE:
            claims = {"aud": audience, "exp": int(now) + JWT_LIFETIME, "sub": self.subject}
            cached = (now, self.vapid.sign(claims))
            self._signed[audience] = cached
        return dict(cached[1])

    def _checked(self, endpoint: str) -> None:
        """Again before each send (an address may resolve elsewhere now), cached a minute."""
        host = urlsplit(endpoint).netloc
        if time.monotonic() - self._resolved.get(host, -1e9) < 60:
            return
        check_endpoint(endpoint, self.allow_hosts)
        self._resolved[host] = time.monotonic()

    def send(self, subscription: Mapping[str, str], data: bytes, *, urgent: bool) -> PushResult:
        endpoint = subscription["endpoint"]
        try:
            self._checked(endpoint)
        except BadSubscription as refused:
            return PushResult(404, reason=f"endpoint refused: {refused.code}")
        info = {
            "endpoint": endpoint,
            "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]},
        }
        try:
            body = WebPusher(info).encode(data, content_encoding="aes128gcm")["body"]
        except Exception as error:
            return PushResult(400, reason=f"encryption failed: {type(error).__name__}")
        headers = {
            **self.vapid_headers(endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL),
            "Urgency": "high" if urgent else "normal",
        }
        try:
            answer = self.session.post(endpoint, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            return PushResult(0, reason=f"push service unavailable: {type(error).__name__}")
        retry_after = answer.headers.get("Retry-After")
        return PushResult(
            answer.status_code,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            reason=f"push service {answer.status_code}",
        )


def gateway_from_config(app: Flask) -> PushGateway | None:
    config = app.config
    if not config.get("VAPID_PRIVATE_KEY"):
        return None
    subject = config.get("VAPID_SUBJECT") or f"mailto:{config['MAIL_FROM']}"
    return PushGateway(
        private_key=config["VAPID_PRIVATE_KEY"],
        subject=subject,
        allow_hosts=list(config.get("PUSH_ALLOW_HOSTS") or []),
    )


class PushSender:
    """One pass sends every due push (see the module's doc); `run_once` returns the counts."""

    def __init__(
        self,
        app: Flask,
        gateway: PushGateway,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.app = app
        self.gateway = gateway
        self.clock = clock or (lambda: utcnow())

    def run_once(self) -> Report:
        report = Report()
        now = self.clock()
        db.session.execute(
            update(OutgoingPush)
            .where(OutgoingPush.status == MessageStatus.SENDING, OutgoingPush.lease_until < now)
            .values(status=MessageStatus.PENDING, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        due = list(
            db.session.scalars(
                select(OutgoingPush)
                .where(
                    OutgoingPush.status == MessageStatus.PENDING,
                    OutgoingPush.next_attempt_at <= now,
                )
                .order_by(OutgoingPush.id)
                .limit(BATCH)
            )
        )
        if not due:
            db.session.commit()
            return report
        wanted = self._still_wanted(due)
        dropped = [p.id for p in due if p.id not in wanted]
        if dropped:
            self._set(dropped, status=MessageStatus.DROPPED, lease_until=None)
            report.dropped += len(dropped)
        quiet = self._quiet_ends({p.user_id for p in due}, now)
        ready = []
        for push in due:
            if push.id not in wanted:
                continue
            resume = quiet.get(push.user_id)
            if resume is not None and not push.urgent:
                push.next_attempt_at = resume
                report.held += 1
                continue
            ready.append(push)
        db.session.commit()
        claimed = self._claim([p.id for p in ready], now)
        if claimed:
            self._send(claimed, now, report)
        return report

    def _still_wanted(self, due: list[OutgoingPush]) -> set[int]:
        """Pushes whose parent is active, still the child's guardian (a link that ended stops
        at once, even for pushes queued before), and still wants the topic for the child."""
        users = {p.user_id for p in due}
        active = set(db.session.scalars(select(User.id).where(User.id.in_(users), User.active)))
        pairs = {(p.user_id, p.pupil_id) for p in due if p.pupil_id is not None}
        linked = (
            set(
                db.session.execute(
                    select(Guardianship.user_id, Guardianship.pupil_id).where(
                        tuple_(Guardianship.user_id, Guardianship.pupil_id).in_(pairs)
                    )
                ).all()
            )
            if pairs
            else set()
        )
        choices = set(
            db.session.execute(
                select(PushChoice.user_id, PushChoice.pupil_id, PushChoice.topic).where(
                    PushChoice.user_id.in_(users)
                )
            ).all()
        )
        any_child = {(user, topic) for user, _pupil, topic in choices}
        wanted = set()
        for push in due:
            if push.user_id not in active:
                continue
            if push.pupil_id is None:
                ok = (push.user_id, push.topic) in any_child
            else:
                ok = (push.user_id, push.pupil_id) in linked and (
                    push.user_id,
                    push.pupil_id,
                    push.topic,
                ) in choices
            if ok:
                wanted.add(push.id)
        return wanted

    @staticmethod
    def _quiet_ends(users: set[int], now: dt.datetime) -> dict[int, dt.datetime]:
        """User id → when their quiet hours end, for those in them now (the e-mail setting)."""
        saved = {
            user_id: (start, end)
            for user_id, start, end in db.session.execute(
                select(
                    NotificationPreference.user_id,
                    NotificationPreference.quiet_from,
                    NotificationPreference.quiet_until,
                ).where(NotificationPreference.user_id.in_(users))
            )
        }
        ends = {}
        for user_id in users:
            start, end = saved.get(user_id, (DEFAULT_QUIET_FROM, DEFAULT_QUIET_UNTIL))
            resume = quiet_until(now, start, end)
            if resume is not None:
                ends[user_id] = resume
        return ends

    def _claim(self, ids: list[int], now: dt.datetime) -> list[OutgoingPush]:
        """A conditional UPDATE marks the rows with this pass's token: two senders never take
        the same row; the rows this one got are read back by the token."""
        if not ids:
            return []
        token = uuid.uuid4().hex
        for start in range(0, len(ids), 500):
            db.session.execute(
                update(OutgoingPush)
                .where(
                    OutgoingPush.id.in_(ids[start : start + 500]),
                    OutgoingPush.status == MessageStatus.PENDING,
                )
                .values(
                    status=MessageStatus.SENDING,
                    lease_until=now + LEASE,
                    claimed_by=token,
                    attempts=OutgoingPush.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
        return list(
            db.session.scalars(
                select(OutgoingPush)
                .where(
                    and_(
                        OutgoingPush.status == MessageStatus.SENDING,
                        OutgoingPush.claimed_by == token,
                    )
                )
                .order_by(OutgoingPush.id)
                .execution_options(populate_existing=True)  # the UPDATE above changed them
            )
        )

    def _send(self, claimed: list[OutgoingPush], now: dt.datetime, report: Report) -> None:
        subscriptions = {
            s.id: {"endpoint": s.endpoint, "p256dh": s.p256dh, "auth": s.auth}
            for s in db.session.scalars(
                select(PushSubscription).where(
                    PushSubscription.id.in_({p.subscription_id for p in claimed})
                )
            )
        }
        names = dict(
            db.session.execute(
                select(Pupil.id, Pupil.first_name).where(
                    Pupil.id.in_({p.pupil_id for p in claimed if p.pupil_id is not None})
                )
            ).all()
        )
        work = []
        for push in claimed:
            shown = notification_of(push, names.get(push.pupil_id, "") if push.pupil_id else "")
            data = json.dumps(shown, ensure_ascii=False).encode()
            work.append((push, subscriptions.get(push.subscription_id), data))
        db.session.commit()  # no transaction stays open while the push services answer

        def one(item: tuple[OutgoingPush, Any, bytes]) -> PushResult:
            _push, subscription, data = item
            if subscription is None:
                return PushResult(410, reason="subscription removed")
            return self.gateway.send(subscription, data, urgent=_push.urgent)

        with ThreadPoolExecutor(max_workers=self.gateway.workers) as pool:
            results = list(pool.map(one, work))
        sent: list[int] = []
        gone: set[int] = set()
        for (push, _subscription, _data), result in zip(work, results, strict=True):
            if 200 <= result.status < 300:
                sent.append(push.id)
            elif result.status in (404, 410):
                gone.add(push.subscription_id)
                report.dropped += 1
            else:
                self._failed(push, result, now, report)
        if sent:
            self._set(
                sent,
                status=MessageStatus.SENT,
                sent_at=self.clock(),
                lease_until=None,
                last_error=None,
            )
            report.sent += len(sent)
        if gone:
            # The device unsubscribed or its browser is gone: its queue and it go.
            db.session.execute(delete(OutgoingPush).where(OutgoingPush.subscription_id.in_(gone)))
            db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        db.session.commit()

    @staticmethod
    def _failed(push: OutgoingPush, result: PushResult, now: dt.datetime, report: Report) -> None:
        retry = result.status in (0, 429) or result.status >= 500
        push.last_error = result.reason[:500]
        push.lease_until = None
        if not retry or push.attempts >= MAX_ATTEMPTS:
            push.status = MessageStatus.FAILED
            report.failed += 1
        else:
            push.status = MessageStatus.PENDING
            wait = backoff(push.attempts)
            if result.retry_after is not None:
                wait = max(wait, dt.timedelta(seconds=min(result.retry_after, 7200)))
            push.next_attempt_at = now + wait
            report.retried += 1
        # The reason names no child and no endpoint: logs hold no personal data.
        log.warning("push %s not sent: %s", push.id, result.reason)
        report.errors.append(result.reason)

    @staticmethod
    def _set(ids: list[int], **values: Any) -> None:
        for start in range(0, len(ids), 500):
            db.session.execute(
                update(OutgoingPush)
                .where(OutgoingPush.id.in_(ids[start : start + 500]))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
