"""Excuse requests and decisions as they stand in the change history (§21 ust. 3 pkt 4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.queries import CHANNEL_NAMES
from ediary.db import db
from ediary.excuses.models import ExcuseRequest
from ediary.people.models import User
from ediary.schools.models import Pupil

STATUS_NAMES: dict[str, LazyString] = {
    "pending": _l("oczekuje"),
    "approved": _l("usprawiedliwiona"),
    "rejected": _l("odrzucona"),
}


@dataclass(frozen=True)
class Decision:
    at: dt.datetime
    who: str | LazyString
    channel: str | LazyString
    old: str | LazyString | None
    new: str | LazyString
    first_date: dt.date | None
    note: str | None


def excuse_decisions(pupil: Pupil, limit: int = 50) -> list[Decision]:
    """Each request and each change of its status: who, when, from what to what."""
    rows = list(
        db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.pupil_id == pupil.id, HistoryEntry.entity == "excuse_requests")
            .order_by(HistoryEntry.id.desc())
            .limit(limit)
        )
    )
    actors = {r.actor_id for r in rows if r.actor_id is not None}
    names = (
        {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(actors)))}
        if actors
        else {}
    )
    requests = {
        r.id: r
        for r in db.session.scalars(
            select(ExcuseRequest).where(ExcuseRequest.id.in_({r.entity_id for r in rows}))
        )
    }
    decisions = []
    for row in rows:
        new, old = row.new or {}, row.old or {}
        if "status" not in new:
            continue
        request = requests.get(row.entity_id or 0)
        decisions.append(
            Decision(
                at=row.at,
                who=names.get(row.actor_id or 0, CHANNEL_NAMES["system"]),
                channel=CHANNEL_NAMES.get(row.channel, row.channel),
                old=STATUS_NAMES.get(old["status"]) if old.get("status") else None,
                new=STATUS_NAMES.get(new["status"], new["status"]),
                first_date=request.first_date if request is not None else None,
                note=new.get("decision_note"),
            )
        )
    return decisions
