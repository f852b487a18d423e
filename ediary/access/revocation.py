"""Changes of access: operations declare them, and a commit that forgets to is refused.

An operation that changes who may see what says so with one call, like `publish` (house rule
3), in its own transaction:

- `access_changed(*user_ids)`: what these people may see changed (a guardianship linked or
  unlinked, a role granted or removed, a teaching assignment, a form tutorship);
- `class_members_changed(*class_ids)`: a pupil joined or left these classes (enrolled, moved):
  their teachers and form tutors;
- `pupil_moved(pupil, from_class_id)`: a pupil changed class: their guardians and the staff of
  both classes;
- `group_members_changed(*group_ids)`: pupils joined or left these groups: their teachers;
- `sessions_ended(user)`: logout everywhere, a disabled account, a new password;
- `kiosk_cut_off(kiosk)`: a kiosk revoked, or enrolled again with a new secret.

Each becomes a control (`ediary.realtime.controls`) placed in the journal's order at the
commit and applied after it by every process's relay to its own sockets; a rollback forgets it.
Who is affected is decided here, in the domain, so the realtime layer only moves sockets.

The guard: no code path can silently forget. After every flush, `note_access_changes` notes
what each flushed row of the tables that decide access requires (the columns `scope.py` and the
session checks read, in `_requirements`, the one place that knows them); before every commit,
`require_declarations` refuses (`UndeclaredRevocation`, and nothing is stored) a commit whose
requirements were not all declared. Like `UnauditedWrite` it runs everywhere, not only in tests:
a forgotten declaration fails the first time its code path commits, in a test or in production,
instead of leaving a socket that still receives what it may no longer see. Writes through Core
statements (`update_in_bulk`, retention) bypass the ORM's flush, like the history does; none of
them touches these tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from ediary.audit.recording import current_actor
from ediary.db import TransactionNotes, db
from ediary.kiosks.models import Kiosk
from ediary.people.models import Membership, User
from ediary.realtime import delivery
from ediary.realtime.controls import ACCESS, KIOSK_REVOKED, SESSIONS, Control
from ediary.schools.models import GroupMembership, Guardianship, Pupil, SchoolClass
from ediary.timetable.models import TeachingAssignment

# What must be declared: ("access" | "class" | "pupil" | "group" | "sessions" | "kiosk", id).
Requirement = tuple[str, int]

REQUIRED: TransactionNotes[tuple[Requirement, str]] = TransactionNotes("ediary.access.required")
DECLARED: TransactionNotes[Requirement] = TransactionNotes("ediary.access.declared")

DECLARATIONS = {
    "access": "access_changed",
    "class": "class_members_changed",
    "pupil": "pupil_moved",
    "group": "group_members_changed",
    "sessions": "sessions_ended",
    "kiosk": "kiosk_cut_off",
}


class UndeclaredRevocation(RuntimeError):
    """A transaction changed who may see what without declaring it."""


# --- the declarations -------------------------------------------------------------------------


def _declare(requirements: Iterable[Requirement], controls: Iterable[Control] = ()) -> None:
    current_actor("a change of access")
    session = db.session()
    DECLARED.add(session, requirements)
    delivery.declare(*controls)


def access_changed(*user_ids: int | None) -> None:
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    _declare([("access", i) for i in ids], [Control(ACCESS, i) for i in ids])


def class_members_changed(*class_ids: int | None) -> None:
    ids = {class_id for class_id in class_ids if class_id is not None}
    _declare([("class", i) for i in sorted(ids)])
    access_changed(*_class_staff(ids))


def pupil_moved(pupil: Pupil, from_class_id: int | None) -> None:
    _declare([("pupil", pupil.id)])
    guardians = select(Guardianship.user_id).where(Guardianship.pupil_id == pupil.id)
    access_changed(*db.session.scalars(guardians))
    class_members_changed(from_class_id, pupil.class_id)


def group_members_changed(*group_ids: int) -> None:
    ids = sorted(set(group_ids))
    _declare([("group", i) for i in ids])
    teachers = select(TeachingAssignment.teacher_id).where(TeachingAssignment.group_id.in_(ids))
    access_changed(*db.session.scalars(teachers))


def sessions_ended(user: User) -> None:
    """Call it after raising `user.session_version`: older sessions' sockets end."""
    _declare([("sessions", user.id)], [Control(SESSIONS, user.id, version=user.session_version)])


def kiosk_cut_off(kiosk: Kiosk) -> None:
    _declare([("kiosk", kiosk.id)], [Control(KIOSK_REVOKED, kiosk.id)])


def _class_staff(class_ids: set[int]) -> set[int]:
    """Who reads a class's pupils because of the class: its teachers (any assignment) and its
    form tutor (registry staff read the whole school and are not affected)."""
    if not class_ids:
        return set()
    teachers = select(TeachingAssignment.teacher_id).where(
        TeachingAssignment.class_id.in_(class_ids)
    )
    tutors = select(SchoolClass.form_tutor_id).where(
        SchoolClass.id.in_(class_ids), SchoolClass.form_tutor_id.is_not(None)
    )
    return set(db.session.scalars(teachers)) | set(db.session.scalars(tutors))


# --- the guard --------------------------------------------------------------------------------


def _changed(obj: object, key: str) -> tuple[Any, Any] | None:
    """(before, after) of a column this flush changed, else None."""
    history = inspect(obj).attrs[key].history
    if not history.has_changes():
        return None
    before = history.deleted[0] if history.deleted else None
    after = history.added[0] if history.added else None
    return None if before == after else (before, after)


def _named(obj: object, name: str, columns: tuple[str, ...]) -> Iterator[Any]:
    """The values of `name` before and after a change of any of `columns` (none if none)."""
    changes = [_changed(obj, column) for column in columns]
    if not any(changes):
        return
    moved = changes[columns.index(name)] if name in columns else None
    yield from moved if moved else (getattr(obj, name),)


# A row of these decides what someone may see: (kind, the column naming whom, the columns).
_WATCHED: dict[type, tuple[str, str, tuple[str, ...]]] = {
    Guardianship: ("access", "user_id", ("user_id", "pupil_id")),
    Membership: ("access", "user_id", ("user_id", "role", "school_id", "district_id")),
    TeachingAssignment: (
        "access",
        "teacher_id",
        ("teacher_id", "class_id", "group_id", "school_id"),
    ),
    SchoolClass: ("access", "form_tutor_id", ("form_tutor_id",)),
    GroupMembership: ("group", "group_id", ("group_id", "pupil_id")),
    Pupil: ("class", "class_id", ("class_id", "school_id")),
}


def _requirements(session: Session) -> Iterator[tuple[Requirement, str]]:
    for obj in (*session.new, *session.deleted):
        watched = _WATCHED.get(type(obj))
        if watched is not None:
            kind, name, _columns = watched
            yield from _each(kind, [getattr(obj, name)], obj)
    for obj in session.deleted:
        if isinstance(obj, User):
            yield ("sessions", obj.id), _what(obj)
        elif isinstance(obj, Kiosk):
            yield ("kiosk", obj.id), _what(obj)
    for obj in session.dirty:
        watched = _WATCHED.get(type(obj))
        if watched is not None:
            kind, name, columns = watched
            yield from _each(kind, _named(obj, name, columns), obj)
        if isinstance(obj, Pupil) and (_changed(obj, "class_id") or _changed(obj, "school_id")):
            yield ("pupil", obj.id), _what(obj)
        elif isinstance(obj, SchoolClass) and _changed(obj, "school_id"):
            yield ("class", obj.id), _what(obj)
        elif isinstance(obj, User) and (
            _changed(obj, "session_version") or _changed(obj, "active") == (True, False)
        ):
            yield ("sessions", obj.id), _what(obj)
        elif isinstance(obj, Kiosk) and _kiosk_cut_off(obj):
            yield ("kiosk", obj.id), _what(obj)


def _kiosk_cut_off(kiosk: Kiosk) -> bool:
    """Revoked, or a secret replaced (an enrollment over an earlier one), by this flush."""
    revoked = _changed(kiosk, "revoked_at")
    secret = _changed(kiosk, "secret_hash")
    return bool(revoked and revoked[1] is not None) or bool(secret and secret[0] is not None)


def _each(kind: str, ids: Iterable[Any], obj: object) -> Iterator[tuple[Requirement, str]]:
    for value in ids:
        if value is not None:
            yield (kind, int(value)), _what(obj)


def _what(obj: object) -> str:
    identity = inspect(obj).identity
    return f"{type(obj).__name__} {identity[0] if identity else '(new)'}"


def note_access_changes(session: Session, _ctx: UOWTransaction) -> None:
    """`after_flush`: what the rows this flush wrote require to be declared."""
    REQUIRED.add(session, list(_requirements(session)))


def require_declarations(session: Session) -> None:
    """`before_commit`: refuses a commit that changed access without declaring it."""
    if session.get_nested_transaction() is not None:
        return  # a savepoint's release: the whole transaction is checked at its commit
    session.flush()  # the commit would flush now: its rows are checked too
    declared = set(DECLARED.get(session))
    missing = {
        f"{DECLARATIONS[kind]}({ident}) for {what}"
        for (kind, ident), what in REQUIRED.get(session)
        if (kind, ident) not in declared
    }
    if missing:
        raise UndeclaredRevocation("; ".join(sorted(missing)))
