"""The demo's kiosk fleet: a few classroom computers with a past, so that the director's and the
gmina's fleet pages show what they are for (the one live kiosk is the demo teacher's, started by
`ediary demo`: kiosk_launcher.py).

In each school of the demo, the computers of its last rooms (by name) are enrolled (with a secret
nobody knows, so they never connect) and have a last report and outages:
- the last room: went away two hours before the seed holding 3 entries, the oldest of them as
  old: offline (an alert when its room has a lesson) with a stuck outbox;
- the one before: back and forth over the past week (closed outages, with the entries queued),
  last seen yesterday evening;
- the one before that (SP Mirzec only): revoked (a stolen laptop).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select

from ediary.access.revocation import kiosk_cut_off
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.kiosks.auth import secret_hash
from ediary.kiosks.models import Kiosk, KioskOutage, KioskStatus
from ediary.schools.models import Room, School

VERSION = "0.1.0"


@operation
def _enroll_unknown(actor: Actor, kiosk: Kiosk, at: dt.datetime, revoked: bool) -> None:
    kiosk.secret_hash = secret_hash(secrets.token_urlsafe(32))
    kiosk.enrolled_at = at
    kiosk.revoked_at = at + dt.timedelta(days=5) if revoked else None
    kiosk_cut_off(kiosk)  # a device's credential changed: declared, as every such write is


def seed_fleet(now: dt.datetime) -> None:
    actor = Actor.system(Channel.IMPORT)
    schools = db.session.scalars(select(School).order_by(School.id)).all()
    for index, school in enumerate(schools):
        kiosks = db.session.scalars(
            select(Kiosk)
            .join(Room, Room.id == Kiosk.room_id)
            .where(Kiosk.school_id == school.id)
            .order_by(Room.name.desc())
        ).all()
        enrolled_at = now - dt.timedelta(days=30)
        if len(kiosks) >= 1:
            _away_with_entries(actor, kiosks[0], now, enrolled_at)
        if len(kiosks) >= 2:
            _unsteady(actor, kiosks[1], now, enrolled_at)
        if index == 0 and len(kiosks) >= 3:
            _enroll_unknown(actor, kiosks[2], enrolled_at, revoked=True)


def _away_with_entries(actor: Actor, kiosk: Kiosk, now: dt.datetime, since: dt.datetime) -> None:
    _enroll_unknown(actor, kiosk, since, revoked=False)
    gone = now - dt.timedelta(hours=2)
    db.session.add(
        KioskStatus(
            kiosk_id=kiosk.id,
            connected=False,
            last_seen_at=gone,
            connected_at=gone - dt.timedelta(hours=1),
            agent_version=VERSION,
            outbox_depth=3,
            outbox_parked=0,
            oldest_unsent_at=gone - dt.timedelta(minutes=20),
        )
    )
    db.session.add(KioskOutage(kiosk_id=kiosk.id, started_at=gone))
    db.session.flush()


def _unsteady(actor: Actor, kiosk: Kiosk, now: dt.datetime, since: dt.datetime) -> None:
    _enroll_unknown(actor, kiosk, since, revoked=False)
    for days, minutes, queued in ((6, 12, 4), (4, 95, 17), (2, 3, 0), (1, 41, 6)):
        start = now - dt.timedelta(days=days, hours=1)
        end = start + dt.timedelta(minutes=minutes)
        db.session.add(
            KioskOutage(kiosk_id=kiosk.id, started_at=start, ended_at=end, queued=queued)
        )
    evening = now - dt.timedelta(hours=14)
    db.session.add(
        KioskStatus(
            kiosk_id=kiosk.id,
            connected=False,
            last_seen_at=evening,
            connected_at=now - dt.timedelta(days=1),
            agent_version="0.0.9",
            outbox_depth=0,
            outbox_parked=1,
        )
    )
    db.session.flush()
