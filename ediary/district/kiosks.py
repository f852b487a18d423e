"""The board's kiosk columns: per school, online / offline / stuck outbox and the oldest unsent
entry. The kiosks' own read model (`ediary/kiosks/fleet.py`, the fleet's states) decides what
each state means; until a server has it, only the kiosk records are counted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


def kiosk_counts(school_ids: list[int], now: dt.datetime) -> dict[int, KioskCounts]:
    counts: dict[int, KioskCounts] = {i: KioskCounts() for i in school_ids}
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
