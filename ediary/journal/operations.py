"""Writing journal events: only operations call `publish` (house rule 3).

`publish` refuses to run outside an operation (`UnauditedWrite`), as an audited write does: an
event is part of the operation's transaction, and its delivery after commit (realtime/delivery.py)
is the transaction's, not the caller's.
"""

from __future__ import annotations

from typing import Any

from ediary.audit.recording import current_actor
from ediary.db import db
from ediary.journal.catalogue import EVENT_TYPES
from ediary.journal.models import JournalEvent


class UnknownEvent(ValueError):
    pass


def publish(type_name: str, *, school_id: int, audience_id: int, **payload: Any) -> JournalEvent:
    """Adds a journal row to the operation's transaction; delivery happens after commit."""
    event_type = EVENT_TYPES.get(type_name)
    if event_type is None:
        raise UnknownEvent(type_name)
    if set(payload) != event_type.fields:
        raise UnknownEvent(f"{type_name}: fields {sorted(set(payload) ^ event_type.fields)}")
    current_actor(f"publish({type_name!r})")
    row = JournalEvent(
        type=type_name,
        school_id=school_id,
        audience=event_type.audience.value,
        audience_id=audience_id,
        payload=payload,
    )
    db.session.add(row)
    return row
