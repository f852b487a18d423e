"""Which Socket.IO rooms a person's `/live` socket joins, and which rooms an event goes to.

A person's rooms are their scope (`ediary/access/scope.py`: who may read what, by the rules of
`ediary/access/roles.py`) written as room names; this module knows rooms and events, not the
domain:

- `pupil:<id>` for each pupil the person may read individually (a guardian's children, a form
  tutor's class, the pupils a teacher teaches);
- `class:<id>` for each class whose lesson events they see (guardians see their children's
  classes, catalogue `Audience.CLASS`);
- `school:<id>` for secretaries and school administrators, who read the whole school: one room
  instead of hundreds of pupil rooms;
- `person:<id>` for the person themself: their messages and read receipts (catalogue
  `Audience.PERSON`), which no school room carries;
- `user:<id>` (control only: revocation finds a person's sockets through it, no event goes there).

On `/kiosk`, a device's socket is in `kiosk:<id>` (its own events) and, while its screen shows a
lesson it loaded the roster of, in `lesson:<id>`: the relay also sends that lesson's roll and
topic events there (`lesson_rooms`), so the roster follows changes made elsewhere.

District administrators see aggregates, never individual records: they join no event room, only
`district:<id>`, where the relay sends `board` signals (`{"school_id": n}`: this school's board
changed, read it again over HTTP) for the journal events in `BOARD_EVENTS`; never an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from ediary.access.scope import Scope
from ediary.journal.catalogue import Audience
from ediary.journal.models import JournalEvent

LIVE = "/live"
KIOSK = "/kiosk"

# The namespaces a process serves, by its `SOCKETS` setting (ediary/config.py). A process does
# not register the others, so python-socketio refuses a connect to them ("Unable to connect").
SERVED_NAMESPACES = {
    "all": frozenset({LIVE, KIOSK}),
    "people": frozenset({LIVE}),
    "kiosks": frozenset({KIOSK}),
}
# The Socket.IO path of the kiosks (docs/protocol.md): every process answers it as well as the
# default /socket.io/, so that nginx can send it to the kiosks' own processes (a namespace is
# inside the WebSocket, out of nginx's sight; a path is not).
KIOSK_SOCKETIO_PATH = "/kiosk/socket.io/"


def serves(config: Mapping[str, Any], namespace: str) -> bool:
    """Does a process with this configuration serve `namespace`? Refuses an unknown setting."""
    kind = config.get("SOCKETS", "all")
    if kind not in SERVED_NAMESPACES:
        raise ValueError(f"EDIARY_SOCKETS must be one of {', '.join(SERVED_NAMESPACES)}: {kind!r}")
    return namespace in SERVED_NAMESPACES[kind]


# Events of these audiences go to people; kiosk events go to one device (the /kiosk namespace).
PEOPLE_AUDIENCES = (Audience.PUPIL.value, Audience.CLASS.value)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def kiosk_room(kiosk_id: int) -> str:
    return f"{Audience.KIOSK.value}:{kiosk_id}"


# Journal events a kiosk showing the lesson applies to its roster (they carry `lesson_id`).
LESSON_EVENTS = frozenset({"attendance.recorded", "lesson.topic", "lesson.cancelled"})


def lesson_room(lesson_id: int) -> str:
    """The `/kiosk` room of the sockets whose screen shows this lesson (kiosks/sockets.py)."""
    return f"lesson:{lesson_id}"


def lesson_rooms(message: dict[str, object]) -> list[str]:
    """The `/kiosk` rooms a journal message also goes to: its lesson's, for a roll or topic
    change (the kiosk there already shows that lesson's roster, so it learns nothing new)."""
    lesson_id = message.get("lesson_id")
    if message.get("type") in LESSON_EVENTS and isinstance(lesson_id, int):
        return [lesson_room(lesson_id)]
    return []


# Journal events that change a school's line on the gmina's board (ediary/district/board.py).
BOARD_EVENTS = frozenset({"attendance.recorded", "lesson.topic", "lesson.cancelled"})


def district_room(district_id: int) -> str:
    return f"district:{district_id}"


def rooms_of(scope: Scope) -> set[str]:
    """The `/live` rooms of a person's scope (`ediary.access.scope`)."""
    return (
        {f"{Audience.PUPIL.value}:{p}" for p in scope.pupils}
        | {f"{Audience.CLASS.value}:{c}" for c in scope.classes}
        | {f"school:{s}" for s in scope.schools}
        | {district_room(d) for d in scope.districts}
        | ({person_room(scope.person)} if scope.person is not None else set())
    )


def person_room(user_id: int) -> str:
    return f"{Audience.PERSON.value}:{user_id}"


def journal_filter(scope: Scope) -> ColumnElement[bool]:
    """The same rule as `Scope.sees`, as a WHERE clause on the journal (for replay)."""
    clauses: list[ColumnElement[bool]] = []
    if scope.pupils:
        clauses.append(
            and_(
                JournalEvent.audience == Audience.PUPIL.value,
                JournalEvent.audience_id.in_(sorted(scope.pupils)),
            )
        )
    if scope.classes:
        clauses.append(
            and_(
                JournalEvent.audience == Audience.CLASS.value,
                JournalEvent.audience_id.in_(sorted(scope.classes)),
            )
        )
    if scope.person is not None:
        clauses.append(
            and_(
                JournalEvent.audience == Audience.PERSON.value,
                JournalEvent.audience_id == scope.person,
            )
        )
    if scope.schools:
        clauses.append(
            and_(
                JournalEvent.audience.in_(PEOPLE_AUDIENCES),
                JournalEvent.school_id.in_(sorted(scope.schools)),
            )
        )
    return or_(*clauses) if clauses else false()


def event_rooms(audience: str, audience_id: int, school_id: int) -> tuple[str, list[str]]:
    """The namespace and rooms an event is emitted to (the inverse of `rooms_of`)."""
    if audience == Audience.PERSON.value:
        return LIVE, [person_room(audience_id)]  # one person's: no school room
    if audience not in PEOPLE_AUDIENCES:
        return KIOSK, [f"{audience}:{audience_id}"]
    return LIVE, [f"{audience}:{audience_id}", f"school:{school_id}"]
