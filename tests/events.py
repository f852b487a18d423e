"""`capture_events`: what an operation publishes, checked like Zulip's `verify_action`.

    captured = capture_events(lambda: cancel_lesson(actor, lesson), "lesson.cancelled")
    (event,) = captured.events
    assert event.audience_id == lesson.class_id

It runs the action (an operation, or a request to a page that runs one) and asserts that the
journal got exactly the events named, in that order (none named: none at all, Zulip's
`num_events=0`), each with its catalogue audience and exactly its payload's fields, each of the
type its TypedDict declares (ediary/journal/catalogue.py). What is left to the test is what only
it knows: who the audience is and what the values are.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from sqlalchemy import func, select

from ediary.db import db
from ediary.journal.catalogue import EVENT_TYPES
from ediary.journal.models import JournalEvent
from ediary.realtime import delivery

R = TypeVar("R")


@dataclass(frozen=True)
class Published:
    type: str
    school_id: int
    audience: str
    audience_id: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class Captured(Generic[R]):
    result: R
    events: list[Published]

    def of(self, type_name: str) -> list[Published]:
        return [e for e in self.events if e.type == type_name]


def capture_events(action: Callable[[], R], *expected: str) -> Captured[R]:
    """Runs `action`; asserts that it published the `expected` types exactly, in order."""
    before = _newest()
    held_before = {id(row) for row in delivery.held(db.session())}
    result = action()
    db.session.flush()  # an operation flushes; a page commits
    # A page's commit numbered its rows; an operation's rows wait, without ids, for the commit
    # (realtime/delivery.py): both, in the order they were published.
    rows = [
        *db.session.scalars(
            select(JournalEvent).where(JournalEvent.id > before).order_by(JournalEvent.id)
        ),
        *(row for row in delivery.held(db.session()) if id(row) not in held_before),
    ]
    published = [row.type for row in rows]
    assert published == list(expected), f"published {published}, expected {list(expected)}"
    for row in rows:
        check_event(row.type, row.audience, row.payload)
    return Captured(
        result,
        [Published(r.type, r.school_id, r.audience, r.audience_id, dict(r.payload)) for r in rows],
    )


def check_event(type_name: str, audience: str, payload: dict[str, Any]) -> None:
    """The event as its catalogue entry declares it: audience, fields, and each field's type."""
    event_type = EVENT_TYPES[type_name]
    assert audience == event_type.audience.value, (type_name, audience)
    assert set(payload) == event_type.fields, (type_name, sorted(set(payload) ^ event_type.fields))
    for field, hint in get_type_hints(event_type.payload).items():
        assert _matches(payload[field], hint), (
            f"{type_name}.{field}: {payload[field]!r} is no {hint}"
        )


def _matches(value: object, hint: Any) -> bool:
    """A JSON scalar against a payload annotation. By hand, because the payloads use four
    things only (int, str, bool, `X | None`, Literal), and a checking library would be a new
    dependency for them; `bool` is not taken for an `int` here, unlike `isinstance`."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_matches(value, arg) for arg in get_args(hint))
    if origin is Literal:
        return value in get_args(hint)
    if hint is type(None):
        return value is None
    return type(value) is hint


def _newest() -> int:
    return db.session.scalar(select(func.max(JournalEvent.id))) or 0
