"""`/kiosk`: the device's presence. A connect, a `heartbeat` every 30 s, a disconnect.

Each updates the kiosk's one `KioskStatus` row in place (the fleet pages read it: fleet.py); a
return after an absence closes (or writes) a `KioskOutage`: from the last sign of life to the
return, with the entries the kiosk had queued meanwhile. An absence is a disconnect, or silence
longer than `OFFLINE_AFTER` (a kiosk whose power went, or whose server process died, says no
goodbye).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db, utcnow
from ediary.kiosks.models import Kiosk, KioskOutage, KioskStatus, KioskTeacherSession

HEARTBEAT_SECONDS = 30
# Three beats missed: offline (a beat may be late behind a long submission or a slow network).
OFFLINE_AFTER = dt.timedelta(seconds=3 * HEARTBEAT_SECONDS)


def status_of(kiosk_id: int) -> KioskStatus:
    status = db.session.get(KioskStatus, kiosk_id)
    if status is None:
        # A kiosk's first connects can race (a reconnect overtaking its predecessor in another
        # process; a whole fleet after an upgrade): both saw no row, and the second INSERT
        # failed the connect with a unique violation. The row is made by whichever comes first;
        # the other waits for it (PostgreSQL) and reads it.
        insert = (
            postgresql.insert
            if db.session.get_bind().dialect.name == "postgresql"
            else sqlite.insert
        )
        db.session.execute(
            insert(KioskStatus)
            .values(kiosk_id=kiosk_id, connected=False, outbox_depth=0, outbox_parked=0)
            .on_conflict_do_nothing(index_elements=["kiosk_id"])
        )
        status = db.session.get(KioskStatus, kiosk_id, populate_existing=True)
        assert status is not None  # inserted now, or by the racing connect
    return status


def _open_outage(kiosk_id: int) -> KioskOutage | None:
    return db.session.scalars(
        select(KioskOutage)
        .where(KioskOutage.kiosk_id == kiosk_id, KioskOutage.ended_at.is_(None))
        .order_by(KioskOutage.started_at.desc())
        .limit(1)
    ).first()


def _back(status: KioskStatus, now: dt.datetime, queued: int | None) -> None:
    """A sign of life: ends the outage it ends, if any."""
    outage = _open_outage(status.kiosk_id)
    if outage is not None:
        outage.ended_at, outage.queued = now, queued
    elif status.last_seen_at is not None and now - status.last_seen_at > OFFLINE_AFTER:
        db.session.add(
            KioskOutage(
                kiosk_id=status.kiosk_id,
                started_at=status.last_seen_at,
                ended_at=now,
                queued=queued,
            )
        )


@operation
def record_connect(actor: Actor, kiosk: Kiosk, now: dt.datetime) -> KioskStatus:
    status = status_of(kiosk.id)
    _back(status, now, None)
    status.connected, status.connected_at, status.last_seen_at = True, now, now
    return status


@operation
def record_disconnect(
    actor: Actor, kiosk_id: int, connected_at: dt.datetime | None, now: dt.datetime
) -> None:
    """A socket of the kiosk closed. If a newer socket of it connected meanwhile (a reconnect
    that overtook this goodbye, perhaps in another server process), it is still online."""
    status = db.session.get(KioskStatus, kiosk_id)
    if status is None or not status.connected:
        return
    if (
        connected_at is not None
        and status.connected_at is not None
        and status.connected_at > connected_at
    ):
        return
    status.connected = False
    if _open_outage(kiosk_id) is None:
        db.session.add(KioskOutage(kiosk_id=kiosk_id, started_at=now))


@operation
def record_heartbeat(
    actor: Actor, kiosk: Kiosk, report: dict[str, Any], now: dt.datetime
) -> KioskStatus:
    status = status_of(kiosk.id)
    depth = int(report["outbox_depth"])
    if (
        not status.connected
        or status.last_seen_at is None
        or now - status.last_seen_at > OFFLINE_AFTER
    ):
        _back(status, now, depth)
    elif status.connected_at is not None:
        # The first beat after a connect: what the kiosk queued while away.
        ended = db.session.scalars(
            select(KioskOutage).where(
                KioskOutage.kiosk_id == kiosk.id,
                KioskOutage.ended_at == status.connected_at,
                KioskOutage.queued.is_(None),
            )
        ).first()
        if ended is not None:
            ended.queued = depth
    status.connected, status.last_seen_at = True, now
    status.agent_version = report["version"]
    status.outbox_depth, status.outbox_parked = depth, int(report["outbox_parked"])
    age = report["oldest_unsent_seconds"]
    status.oldest_unsent_at = None if age is None else now - dt.timedelta(seconds=int(age))
    status.teacher_id = _teacher_here(kiosk, report["teacher_id"], now)
    return status


def _teacher_here(kiosk: Kiosk, teacher_id: int | None, now: dt.datetime) -> int | None:
    """The teacher the kiosk names, if that teacher has a live session on this kiosk: the page
    shows only who the server itself let in."""
    if teacher_id is None:
        return None
    live = db.session.scalar(
        select(KioskTeacherSession.id).where(
            KioskTeacherSession.kiosk_id == kiosk.id,
            KioskTeacherSession.teacher_id == teacher_id,
            KioskTeacherSession.ended_at.is_(None),
            KioskTeacherSession.expires_at > now,
        )
    )
    return teacher_id if live is not None else None


# --- the namespace's handlers (sockets.py registers them) ------------------------------------


def heartbeat(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    record_heartbeat(Actor(None, Channel.KIOSK, kiosk.id), kiosk, data, now)
    db.session.commit()
    return {"ok": True, "now": now.isoformat()}


def connected(kiosk: Kiosk, now: dt.datetime) -> None:
    record_connect(Actor(None, Channel.KIOSK, kiosk.id), kiosk, now)
    db.session.commit()


def disconnected(kiosk_id: int, connected_at: dt.datetime | None, now: dt.datetime) -> None:
    record_disconnect(Actor(None, Channel.KIOSK, kiosk_id), kiosk_id, connected_at, now)
    db.session.commit()
