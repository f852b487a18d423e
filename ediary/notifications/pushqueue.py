"""Journal events become queued Web Pushes, written with them (like e-mails: `enqueue` calls
`pushes_for` with the events it found and their topics, and inserts the rows it returns).

Generic over topics: an event's topics come from `enqueue.topics_of`; every subscription of
every guardian of the event's child who chose one of those topics for that child gets one row
(the most specific topic). An event about no child for one person (`audience == "person"`, a
message) goes to that person's devices if they chose its topic for any child; one for a class (an
announcement) to the guardians of the class's pupils who chose it for one of them, once per
guardian and announcement (the director's reaches every class: one event each). A new `Topic`
needs nothing here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, or_, select

from ediary.journal.models import JournalEvent
from ediary.notifications.models import PushChoice, PushSubscription, Topic
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil


class PupilChoice(NamedTuple):
    """A guardian's push choice of a topic for a pupil, on one of the guardian's devices."""

    user_id: int
    pupil_id: int
    topic: str
    subscription_id: int


@functools.cache
def _choices_query() -> Any:
    """The push choices of active guardians for some topics, about some pupils or of some
    users (expanding parameters; an empty list matches nothing). Built once: every commit of an
    entry runs it, and its four joins cost more to build than to run."""
    return (
        select(PushChoice.user_id, PushChoice.pupil_id, PushChoice.topic, PushSubscription.id)
        .join(PushSubscription, PushSubscription.user_id == PushChoice.user_id)
        .join(User, User.id == PushChoice.user_id)
        .join(
            Guardianship,
            (Guardianship.user_id == PushChoice.user_id)
            & (Guardianship.pupil_id == PushChoice.pupil_id),
        )
        .where(
            User.active.is_(True),
            PushChoice.topic.in_(bindparam("topics", expanding=True)),
            or_(
                PushChoice.pupil_id.in_(bindparam("pupils", expanding=True)),
                PushChoice.user_id.in_(bindparam("users", expanding=True)),
            ),
        )
    )


def pushes_for(
    connection: Connection,
    events: list[JournalEvent],
    topics: dict[JournalEvent, list[Topic]],
    urgent: Mapping[int, set[str]],
    now: dt.datetime,
    pupil_choices: list[PupilChoice],
) -> list[tuple[JournalEvent, dict[str, Any]]]:
    """The `OutgoingPush` rows of `events`, each with its event: they may have no id yet (the
    caller fills `event_id` in once the journal numbered them, realtime/delivery.py).
    `pupil_choices`: the choices of the topics of `events` for every pupil an event is about,
    which the caller read with the guardians' preferences (`enqueue._guardians`)."""
    about_child = [row for row in events if isinstance(row.payload.get("pupil_id"), int)]
    about_user = [row for row in events if row not in about_child and row.audience == "person"]
    about_class = [
        row
        for row in events
        if row not in about_child and row.audience == "class" and "class_id" in row.payload
    ]
    class_pupils: dict[int, list[int]] = {}
    if about_class:
        found = select(Pupil.class_id, Pupil.id).where(
            Pupil.class_id.in_({row.payload["class_id"] for row in about_class}),
            Pupil.active.is_(True),
        )
        for class_id, pupil_id in connection.execute(found):
            class_pupils.setdefault(class_id, []).append(pupil_id)
    wanted = {t.value for row in events for t in topics[row]}
    if not wanted:
        return []
    # (user, pupil) → chosen topics and (user) → subscriptions, of active guardians only.
    choices: dict[tuple[int, int], set[str]] = {}
    any_child: dict[int, set[str]] = {}
    devices: dict[int, list[int]] = {}
    pupils = {row.payload["pupil_id"] for row in about_child}
    pupils.update(p for row in about_class for p in class_pupils.get(row.payload["class_id"], []))
    users = {row.audience_id for row in about_user}
    if not (pupils or users):
        return []
    read: list[Any] = list(pupil_choices)
    pupils.difference_update(row.payload["pupil_id"] for row in about_child)
    if pupils or users:  # a class's pupils, people
        params = {"topics": sorted(wanted), "pupils": sorted(pupils), "users": sorted(users)}
        read.extend(connection.execute(_choices_query(), params))
    for user_id, pupil_id, topic, subscription_id in read:
        choices.setdefault((user_id, pupil_id), set()).add(topic)
        any_child.setdefault(user_id, set()).add(topic)
        subs = devices.setdefault(user_id, [])
        if subscription_id not in subs:
            subs.append(subscription_id)
    guardians: dict[int, set[int]] = {}
    for user_id, pupil_id in choices:
        guardians.setdefault(pupil_id, set()).add(user_id)
    rows: list[tuple[JournalEvent, dict[str, Any]]] = []

    def add(row: JournalEvent, user_id: int, pupil_id: int | None, chosen: set[str]) -> None:
        topic = next((t.value for t in topics[row] if t.value in chosen), None)
        if topic is None:
            return
        for subscription_id in devices.get(user_id, []):
            rows.append(
                (
                    row,
                    {
                        "event_id": row.id,
                        "subscription_id": subscription_id,
                        "user_id": user_id,
                        "pupil_id": pupil_id,
                        "topic": topic,
                        "event_type": row.type,
                        "payload": dict(row.payload),
                        "urgent": topic in urgent.get(row.school_id, set()),
                        "created_at": now,
                        "next_attempt_at": now,
                    },
                )
            )

    for row in about_child:
        pupil_id = row.payload["pupil_id"]
        for user_id in sorted(guardians.get(pupil_id, ())):
            add(row, user_id, pupil_id, choices[(user_id, pupil_id)])
    for row in about_user:
        add(row, row.audience_id, None, any_child.get(row.audience_id, set()))
    told: set[tuple[object, int]] = set()
    for row in about_class:
        announcement = row.payload.get("announcement_id", id(row))
        for pupil_id in class_pupils.get(row.payload["class_id"], []):
            for user_id in sorted(guardians.get(pupil_id, ())):
                if (announcement, user_id) in told:
                    continue
                chosen = choices[(user_id, pupil_id)]
                if any(t.value in chosen for t in topics[row]):
                    told.add((announcement, user_id))
                    add(row, user_id, pupil_id, chosen)
    return rows
