"""Login throttling: growing delays per account, never a lock that a stranger can set off.

The policy of NIST SP 800-63B §5.2.2 (at most 100 consecutive failed attempts on one account)
and of OWASP's Authentication cheat sheet (delays that grow instead of a lockout; device
cookies), for the web login and the classroom kiosks alike:

- Failures are counted per account and *lane*: from browsers unknown to the account (lane ""),
  from one browser that has logged in to it before (its signed device cookie, people/devices.py:
  lane "device:<nonce>"), or at one classroom kiosk ("kiosk:<id>"). A stranger's failures fill
  the unknown browsers' lane only: the parent's own browser, and each kiosk, count their own.
- In a lane the first FREE_FAILURES consecutive failures cost nothing; then each attempt waits
  FIRST_DELAY after the last failure, doubling with every further failure, at most MAX_DELAY.
  After RESET_AFTER consecutive failures the lane stays shut until the password is changed (a
  reset link or a new activation code from the school); a device cookie whose lane is shut is
  treated as an unknown browser. A success empties its lane: the count is of *consecutive*
  failures.
- A ceiling per source counts failures only, so that one address cannot try one password on
  thousands of accounts: 300 an hour from one address for unknown browsers (a
  whole school behind one NAT address logs in successfully without limit), KIOSK_FAILURES in
  a quarter of an hour at one kiosk (pupils are in the room).
- An attempt is written down as a failure *before* its password is checked, and forgotten if
  it succeeds: a burst of simultaneous attempts in several processes sees itself, instead of
  every one of them passing the check before any failure is counted.
- Failures older than FORGET_AFTER are forgotten.

The counts live in the database (`login_failures`), so the limits hold across server processes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, delete, func, select

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Refusal
from ediary.people.models import LoginFailure

FREE_FAILURES = 5
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
RESET_AFTER = 100
FORGET_AFTER = dt.timedelta(days=30)
ADDRESS_WINDOW = dt.timedelta(hours=1)  # its ceiling: EDIARY_LOGIN_FAILURES_PER_ADDRESS
KIOSK_WINDOW = dt.timedelta(minutes=15)
KIOSK_FAILURES = 20

UNKNOWN_BROWSER = ""
_ZERO = dt.timedelta(0)

LOCKED = _l(
    "Po wielu nieudanych próbach logowanie na to konto z nowego urządzenia jest wstrzymane. "
    "Ustaw nowe hasło (link „Nie pamiętam hasła” albo nowy kod aktywacyjny ze szkoły)."
)


def device_lane(nonce: str) -> str:
    return "device:" + nonce


def kiosk_lane(kiosk_id: int) -> str:
    return f"kiosk:{kiosk_id}"


@dataclass(frozen=True)
class Attempt:
    login: str  # trimmed, lower case
    lane: str = UNKNOWN_BROWSER
    address: str | None = None


def delay_after(failures: int) -> dt.timedelta | None:
    """How long after the last of `failures` consecutive failures the next attempt waits;
    None once the lane is shut until the password changes."""
    if failures >= RESET_AFTER:
        return None
    if failures < FREE_FAILURES:
        return _ZERO
    return min(FIRST_DELAY * (1 << min(failures - FREE_FAILURES, 20)), MAX_DELAY)


def retry_message(seconds: int) -> str:
    """When to try again, in the person's language and time zone (Warsaw by default)."""
    at = format_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds), "HH:mm")
    if seconds < 60:
        return str(
            _l("Zbyt wiele prób. Spróbuj ponownie za %(n)s s (o %(time)s).", n=seconds, time=at)
        )
    minutes = math.ceil(seconds / 60)
    return str(
        _l("Zbyt wiele prób. Spróbuj ponownie za %(n)s min (o %(time)s).", n=minutes, time=at)
    )


class Throttled(Refusal):
    status = 429

    def __init__(self, wait: dt.timedelta | None) -> None:
        self.retry_after: int | None = None
        if wait is None:
            super().__init__("locked", LOCKED)
            return
        self.retry_after = max(1, math.ceil(wait.total_seconds()))
        super().__init__("throttled", retry_message(self.retry_after), retry_after=self.retry_after)


def _lane_failures(
    login: str, lane: str, now: dt.datetime, but: int | None = None
) -> tuple[int, dt.datetime | None]:
    query = select(func.count(), func.max(LoginFailure.at)).where(
        LoginFailure.login == login,
        LoginFailure.lane == lane,
        LoginFailure.at >= now - FORGET_AFTER,
    )
    if but is not None:
        query = query.where(LoginFailure.id != but)
    count, last = db.session.execute(query).one()
    return int(count or 0), last


def lane_shut(login: str, lane: str, now: dt.datetime) -> bool:
    return delay_after(_lane_failures(login, lane, now)[0]) is None


def _ceiling_wait(
    source: ColumnElement[bool], window: dt.timedelta, limit: int, now: dt.datetime, but: int
) -> dt.timedelta:
    """Zero, or how long until the oldest of the source's last `limit` failures leaves the
    window."""
    oldest = db.session.scalar(
        select(LoginFailure.at)
        .where(source, LoginFailure.at >= now - window, LoginFailure.id != but)
        .order_by(LoginFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return _ZERO if oldest is None else max(_ZERO, oldest + window - now)


def _wait(attempt: Attempt, now: dt.datetime, but: int) -> dt.timedelta | None:
    failures, last = _lane_failures(attempt.login, attempt.lane, now, but)
    delay = delay_after(failures)
    if delay is None:
        return None
    wait = max(_ZERO, last + delay - now) if last is not None else _ZERO
    if attempt.lane == UNKNOWN_BROWSER and attempt.address:
        by_address = LoginFailure.address == attempt.address
        ceiling = int(current_app.config["LOGIN_FAILURES_PER_ADDRESS"])
        wait = max(wait, _ceiling_wait(by_address, ADDRESS_WINDOW, ceiling, now, but))
    if attempt.lane.startswith("kiosk:"):
        by_kiosk = LoginFailure.lane == attempt.lane
        wait = max(wait, _ceiling_wait(by_kiosk, KIOSK_WINDOW, KIOSK_FAILURES, now, but))
    return wait


@operation
def begin_attempt(actor: Actor, attempt: Attempt, now: dt.datetime) -> Attempt:
    """Writes the attempt down as a failure, then raises `Throttled` if it must wait; returns
    the attempt as counted (a device cookie's lane that is shut counts as an unknown browser's).

    The caller commits before checking the password (so that other processes count this
    attempt meanwhile), and rolls back on `Throttled`: a refused attempt leaves nothing behind
    and checks no password. The first statement writes, so on
    SQLite the counting below reads inside the write transaction, never a stale snapshot."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - FORGET_AFTER))
    if attempt.lane.startswith("device:") and lane_shut(attempt.login, attempt.lane, now):
        attempt = Attempt(attempt.login, UNKNOWN_BROWSER, attempt.address)
    attempt = Attempt(attempt.login[:80], attempt.lane, attempt.address)
    row = LoginFailure(login=attempt.login, lane=attempt.lane, address=attempt.address, at=now)
    db.session.add(row)
    db.session.flush()
    wait = _wait(attempt, now, row.id)
    if wait is None or wait > _ZERO:
        raise Throttled(wait)
    return attempt


@operation
def attempt_succeeded(actor: Actor, attempt: Attempt) -> None:
    """The lane's consecutive failures end (this attempt's own row among them)."""
    db.session.execute(
        delete(LoginFailure).where(
            LoginFailure.login == attempt.login, LoginFailure.lane == attempt.lane
        )
    )


def forget_failures(login: str) -> None:
    """A new password opens every lane of the account (called by the password operations)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.login == login))
