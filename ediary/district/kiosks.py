"""The board's kiosk columns: per school, online / offline / stuck outbox and the oldest unsent
entry, from the kiosks' own read model (`ediary.kiosks.fleet`: two queries for any number of
kiosks; it decides what each state means). Counts only: no teacher's name reaches the gmina."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ediary.db import db
from ediary.kiosks.fleet import fleet_counts


@dataclass
class KioskCounts:
    total: int = 0
    online: int = 0
    offline: int = 0
    stuck: int = 0
    oldest_unsent: dt.timedelta | None = None


def kiosk_counts(school_ids: list[int], now: dt.datetime) -> dict[int, KioskCounts]:
    counts: dict[int, KioskCounts] = {}
    for school_id, c in fleet_counts(db.session, school_ids, now).items():
        oldest = c.oldest_unsent_at
        counts[school_id] = KioskCounts(
            total=c.total,
            online=c.online,
            offline=c.offline,
            stuck=c.stuck,
            oldest_unsent=(now - oldest) if oldest is not None else None,
        )
    return counts
