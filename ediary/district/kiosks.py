"""The board's kiosk columns: per school, online / offline / stuck outbox and the oldest unsent
entry. The kiosks' own read model (`ediary.kiosks.fleet`, the fleet's states: two queries for any
number of kiosks) decides what each state means; on a server without it, only the enrolled
kiosk records are counted and the board says so. No teacher's name: counts only."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ediary.db import db
from ediary.kiosks.models import Kiosk


@dataclass
class KioskCounts:
    enrolled: int = 0
    online: int = 0
    offline: int = 0
    stuck: int = 0
    oldest_unsent: dt.timedelta | None = None
    known: bool = False  # whether the states come from the fleet (else counts of records only)


def _fleet() -> Any:
    try:
        return importlib.import_module("ediary.kiosks.fleet")
    except ImportError:
        return None


def kiosk_counts(school_ids: list[int], now: dt.datetime) -> dict[int, KioskCounts]:
    counts: dict[int, KioskCounts] = {i: KioskCounts() for i in school_ids}
    fleet = _fleet()
    if fleet is not None:
        for school_id, c in fleet.fleet_counts(db.session, school_ids, now).items():
            oldest = c.oldest_unsent_at
            counts[school_id] = KioskCounts(
                enrolled=int(c.total),
                online=int(c.online),
                offline=int(c.offline),
                stuck=int(c.stuck),
                oldest_unsent=(now - oldest) if oldest is not None else None,
                known=True,
            )
        return counts
    rows = db.session.execute(
        select(Kiosk.school_id, func.count())
        .where(
            Kiosk.school_id.in_(school_ids),
            Kiosk.secret_hash.is_not(None),
            Kiosk.revoked_at.is_(None),
        )
        .group_by(Kiosk.school_id)
    )
    for school_id, n in rows:
        counts[school_id].enrolled = int(n)
    return counts
