"""Revocation: a change of access reaches the sockets it concerns, in whatever process they live.

Detected from the rows a transaction flushes, so every code path that unlinks a guardian,
disables an account, ends sessions or revokes a kiosk is covered without remembering to call
anything: `delivery` collects the controls and rings every relay after COMMIT (through Redis
when there is more than one process), and each relay applies them to its own sockets:

- `sessions` (logout, disable, password change: `User.session_version` went up or the account was
  disabled): the person's `/live` sockets get `reload` and are disconnected;
- `access` (a guardianship, a role, a teaching assignment, a form tutorship, a group's members
  or a pupil's class changed): the person's sockets leave the rooms they may no longer see (and
  join new ones), and get `reload` so the page drops what it must no longer show;
- `kiosk` (a kiosk was revoked): its `/kiosk` sockets are disconnected.

A control is placed in the journal's order: it carries the newest event id committed before it
(plus the events of its own transaction), and a relay dispatches every event up to that id
before it applies the control, so e.g. a revoked kiosk still receives its `kiosk.revoked`.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from ediary.db import db
from ediary.kiosks.models import Kiosk
from ediary.people.auth import load_session_user
from ediary.people.models import Membership, User
from ediary.realtime.rooms import KIOSK, LIVE, kiosk_room, scope_of, user_room
from ediary.schools.models import GroupMembership, Guardianship, Pupil, SchoolClass
from ediary.timetable.models import TeachingAssignment

if TYPE_CHECKING:
    from ediary.realtime.relay import Relay

log = logging.getLogger(__name__)

SESSIONS = "sessions"
ACCESS = "access"
KIOSK_REVOKED = "kiosk"


@dataclass(frozen=True)
class Control:
    kind: str
    target: int  # a user id, or a kiosk id
    version: int = 0  # for `sessions`: sockets opened with an older session version end
    after: int = 0  # the newest journal id committed before (or with) this change

    def placed_after(self, newest_id: int) -> Control:
        return dataclasses.replace(self, after=newest_id)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Control:
        return cls(
            kind=str(data["kind"]),
            target=int(data["target"]),
            version=int(data.get("version", 0)),
            after=int(data.get("after", 0)),
        )


def _changed(obj: object, key: str) -> tuple[Any, Any] | None:
    history = inspect(obj).attrs[key].history
    if not history.has_changes():
        return None
    before = history.deleted[0] if history.deleted else None
    after = history.added[0] if history.added else None
    return None if before == after else (before, after)


def detect(session: Session) -> list[Control]:
    """The revocations in the rows being flushed (called from `after_flush`)."""
    access: set[int] = set()
    controls: list[Control] = []
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, Guardianship | Membership):
            access.add(obj.user_id)
        elif isinstance(obj, TeachingAssignment):
            access.add(obj.teacher_id)
        elif isinstance(obj, GroupMembership):
            access.update(_group_teachers(session, obj.group_id))
    for obj in session.dirty:
        if isinstance(obj, Pupil) and (moved_class := _changed(obj, "class_id")):
            access.update(_pupil_readers(session, obj.id, moved_class))
        # Who teaches or tutors a class decides which pupils they see: both sides are affected.
        moved = (
            _changed(obj, "teacher_id")
            if isinstance(obj, TeachingAssignment)
            else _changed(obj, "form_tutor_id")
            if isinstance(obj, SchoolClass)
            else None
        )
        if moved:
            access.update(user_id for user_id in moved if user_id is not None)
        elif isinstance(obj, User) and (
            _changed(obj, "session_version") or _changed(obj, "active") == (True, False)
        ):
            controls.append(Control(SESSIONS, obj.id, version=obj.session_version))
        elif isinstance(obj, Kiosk) and (change := _changed(obj, "revoked_at")) and change[1]:
            controls.append(Control(KIOSK_REVOKED, obj.id))
    controls.extend(Control(ACCESS, user_id) for user_id in sorted(access))
    return controls


def _group_teachers(session: Session, group_id: int) -> set[int]:
    query = select(TeachingAssignment.teacher_id).where(TeachingAssignment.group_id == group_id)
    return set(session.connection().scalars(query))


def _pupil_readers(session: Session, pupil_id: int, classes: tuple[Any, Any]) -> set[int]:
    """A pupil who changes class: their guardians (the class room) and the staff of both classes."""
    class_ids = [c for c in classes if c is not None]
    connection = session.connection()
    guardians = select(Guardianship.user_id).where(Guardianship.pupil_id == pupil_id)
    teachers = select(TeachingAssignment.teacher_id).where(
        TeachingAssignment.class_id.in_(class_ids)
    )
    tutors = select(SchoolClass.form_tutor_id).where(
        SchoolClass.id.in_(class_ids), SchoolClass.form_tutor_id.is_not(None)
    )
    return {
        user_id
        for query in (guardians, teachers, tutors)
        for user_id in connection.scalars(query)
        if user_id is not None
    }


def apply(relay: Relay, control: Control) -> None:
    """Runs in the relay of each process, for the sockets of that process."""
    if control.kind == SESSIONS:
        for sid in relay.local_sids(LIVE, user_room(control.target)):
            stream = relay.streams.get((LIVE, sid))
            if stream is not None and stream.session_version >= control.version:
                continue  # a socket of a session opened after the change
            relay.end(LIVE, sid, "session_ended")
    elif control.kind == ACCESS:
        sids = list(relay.local_sids(LIVE, user_room(control.target)))
        if sids:
            _rescope(relay, control.target, sids)
    elif control.kind == KIOSK_REVOKED:
        for sid in relay.local_sids(KIOSK, kiosk_room(control.target)):
            relay.server.disconnect(sid, namespace=KIOSK, ignore_queue=True)
    else:
        log.warning("unknown revocation %r", control)


def _rescope(relay: Relay, user_id: int, sids: list[str]) -> None:
    user = db.session.get(User, user_id)
    rooms = scope_of(user).rooms() if user is not None else set()
    db.session.close()  # the relay's own session (see Relay._pump)
    for sid in sids:
        stream = relay.streams.get((LIVE, sid))
        if stream is None or not stream.resumed:
            continue  # its rooms are computed when it resumes
        if stream.rooms != rooms:
            relay.move(stream, rooms)
            relay.send(LIVE, sid, "reload", {"reason": "access_changed"})


def session_still_valid(session_id: str) -> bool:
    """The check of the backstop sweep (`Relay.sweep_sessions`), shared with Flask-Login."""
    return load_session_user(session_id) is not None
