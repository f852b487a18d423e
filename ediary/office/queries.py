"""What the office's pages read: today's to-dos, the register (księga uczniów), a pupil's whole
record with its history of changes, and the movements register.

The histories are read from the audit rows (ediary/audit), with the audit viewer's words for
channels and actions (`ediary.audit.queries`), so that a change is told the same way anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, func, or_, select

from ediary.audit.models import HistoryEntry
from ediary.audit.queries import ACTION_NAMES, CHANNEL_NAMES
from ediary.db import db
from ediary.office.models import RecordedParent
from ediary.office.movements import former_guardians
from ediary.people.models import User
from ediary.schools.models import (
    ClassGroup,
    GroupMembership,
    GuardianRelation,
    Guardianship,
    Pupil,
    School,
    SchoolClass,
)

TODO_SHOWN = 10
RELATION_NAMES: dict[str, LazyString] = {
    GuardianRelation.MOTHER.value: _l("matka"),
    GuardianRelation.FATHER.value: _l("ojciec"),
    GuardianRelation.LEGAL_GUARDIAN.value: _l("opiekun prawny"),
    GuardianRelation.OTHER.value: _l("inna osoba"),
}


@dataclass
class Todo:
    title: str | LazyString
    count: int
    pupils: list[Pupil] = field(default_factory=list)


def _pupils(condition: ColumnElement[bool], school: School) -> tuple[int, list[Pupil]]:
    where = (Pupil.school_id == school.id, Pupil.active.is_(True), condition)
    count = db.session.scalar(select(func.count(Pupil.id)).where(*where)) or 0
    shown = db.session.scalars(
        select(Pupil).where(*where).order_by(Pupil.last_name, Pupil.first_name).limit(TODO_SHOWN)
    )
    return count, list(shown)


def office_today(school: School) -> list[Todo]:
    """What needs doing: pupils nobody can follow, guardians nobody can reach, gaps in the
    register the law asks to be filled."""
    linked = exists().where(Guardianship.pupil_id == Pupil.id)

    def guardian_with(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return (
            select(Guardianship.id)
            .join(User, User.id == Guardianship.user_id)
            .where(Guardianship.pupil_id == Pupil.id, User.active.is_(True), *conditions)
            .exists()
        )

    unreachable = guardian_with(User.email.is_(None), User.phone.is_(None))
    never_activated = guardian_with(User.password_hash.is_(None))
    incomplete = or_(
        Pupil.address.is_(None),
        Pupil.birth_date.is_(None),
        Pupil.pesel.is_(None) & Pupil.identity_document.is_(None),
    )
    todos = []
    for title, condition in (
        (_l("Uczniowie bez opiekuna z dostępem"), ~linked),
        (_l("Uczniowie, których opiekun nie ma e-maila ani telefonu"), unreachable),
        (_l("Uczniowie, których opiekun nie aktywował konta"), never_activated),
        (_l("Niepełne dane w księdze uczniów"), incomplete),
    ):
        count, shown = _pupils(condition, school)
        todos.append(Todo(title, count, shown))
    return todos


def register_of(school: School) -> list[tuple[Pupil, SchoolClass]]:
    """Every pupil ever admitted, those who left included, in the order of admission."""
    return list(
        db.session.execute(
            select(Pupil, SchoolClass)
            .join(SchoolClass, SchoolClass.id == Pupil.class_id)
            .where(Pupil.school_id == school.id)
            .order_by(Pupil.admitted_on.is_(None), Pupil.admitted_on, Pupil.id)
        )
    )


def classes_of(school: School) -> list[SchoolClass]:
    return list(
        db.session.scalars(
            select(SchoolClass)
            .where(SchoolClass.school_id == school.id)
            .order_by(SchoolClass.grade_level, SchoolClass.name)
        )
    )


def groups_by_class(school: School) -> dict[int, list[ClassGroup]]:
    found: dict[int, list[ClassGroup]] = {}
    for group in db.session.scalars(
        select(ClassGroup).where(ClassGroup.school_id == school.id).order_by(ClassGroup.name)
    ):
        found.setdefault(group.class_id, []).append(group)
    return found


@dataclass(frozen=True)
class Line:
    """One change in words: when, who, through what, what, and its fields (old → new)."""

    at: dt.datetime
    who: str | LazyString
    channel: str | LazyString
    what: str | LazyString
    fields: tuple[tuple[str | LazyString, Any, Any], ...]
    pupil: Pupil | None = None


PUPIL_FIELDS: dict[str, LazyString] = {
    "first_name": _l("imię"),
    "last_name": _l("nazwisko"),
    "pesel": _l("PESEL"),
    "birth_date": _l("data urodzenia"),
    "birth_place": _l("miejsce urodzenia"),
    "identity_document": _l("dokument tożsamości"),
    "address": _l("adres"),
    "class_id": _l("klasa"),
    "admitted_on": _l("data przyjęcia"),
    "left_on": _l("data odejścia"),
    "leave_reason": _l("przyczyna odejścia"),
}
ENTITIES: dict[str, tuple[LazyString, dict[str, LazyString]]] = {
    "pupils": (_l("dane ucznia"), PUPIL_FIELDS),
    "guardianships": (
        _l("opiekun z dostępem"),
        {"user_id": _l("opiekun"), "relation": _l("pokrewieństwo")},
    ),
    "group_memberships": (_l("grupa"), {"group_id": _l("grupa")}),
    "recorded_parents": (
        _l("rodzic bez dostępu"),
        {"first_name": _l("imię"), "last_name": _l("nazwisko"), "address": _l("adres")},
    ),
    "users": (
        _l("dane opiekuna"),
        {
            "first_name": _l("imię"),
            "last_name": _l("nazwisko"),
            "email": _l("e-mail"),
            "phone": _l("telefon"),
            "address": _l("adres"),
        },
    ),
}


class _Words:
    """Names for the ids in history values, looked up in a few queries."""

    def __init__(self, rows: list[HistoryEntry]) -> None:
        def values(key: str) -> set[int]:
            return {
                int(v)
                for r in rows
                for side in (r.old or {}, r.new or {})
                if isinstance(v := side.get(key), int)
            }

        user_ids = values("user_id") | {r.actor_id for r in rows if r.actor_id is not None}
        self.users = _names(User, user_ids)
        self.classes = {
            c.id: c.name
            for c in db.session.scalars(
                select(SchoolClass).where(SchoolClass.id.in_(values("class_id")))
            )
        }
        self.groups = {
            g.id: g.name
            for g in db.session.scalars(
                select(ClassGroup).where(ClassGroup.id.in_(values("group_id")))
            )
        }

    def value(self, key: str, value: Any) -> Any:
        if value is None:
            return None
        if key == "class_id":
            return self.classes.get(value, value)
        if key == "group_id":
            return self.groups.get(value, value)
        if key == "user_id":
            return self.users.get(value, value)
        if key == "relation":
            return RELATION_NAMES.get(value, value)
        return value

    def line(
        self,
        row: HistoryEntry,
        pupil: Pupil | None = None,
        only: set[str] | None = None,
        what: str | LazyString | None = None,
    ) -> Line:
        title, labels = ENTITIES[row.entity]
        old, new = row.old or {}, row.new or {}
        fields = tuple(
            (label, self.value(key, old.get(key)), self.value(key, new.get(key)))
            for key, label in labels.items()
            if (key in old or key in new)
            and old.get(key) != new.get(key)
            and (only is None or key in only)
        )
        who = self.users.get(row.actor_id or 0) or CHANNEL_NAMES["system"]
        what = what or f"{ACTION_NAMES.get(row.action, row.action)}: {title}"
        return Line(row.at, who, CHANNEL_NAMES.get(row.channel, row.channel), what, fields, pupil)


def _names(model: type[User], ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {
        u.id: u.full_name for u in db.session.scalars(select(model).where(model.id.in_(wanted)))
    }


def register_history(pupil: Pupil, guardian_ids: Iterable[int], limit: int = 200) -> list[Line]:
    """The register's changes of one pupil, newest first: particulars, class, groups,
    guardians linked and unlinked, parents recorded, and the guardians' own particulars."""
    about_pupil = or_(
        (HistoryEntry.entity == "pupils") & (HistoryEntry.entity_id == pupil.id),
        HistoryEntry.entity.in_(["guardianships", "group_memberships", "recorded_parents"])
        & (HistoryEntry.pupil_id == pupil.id),
    )
    ids = sorted(set(guardian_ids))
    about = (
        or_(about_pupil, (HistoryEntry.entity == "users") & HistoryEntry.entity_id.in_(ids))
        if ids
        else about_pupil
    )
    rows = list(
        db.session.scalars(
            select(HistoryEntry).where(about).order_by(HistoryEntry.id.desc()).limit(limit)
        )
    )
    words = _Words(rows)
    return [words.line(row) for row in rows]


MOVED = {"class_id", "left_on", "admitted_on"}


def movements_of(school: School, limit: int = 300) -> list[Line]:
    """Admissions, transfers, leavings and returns of the school's pupils, newest first."""
    rows = list(
        db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.entity == "pupils", HistoryEntry.school_id == school.id)
            .order_by(HistoryEntry.id.desc())
            .limit(limit * 3)
        )
    )
    rows = [r for r in rows if r.action == "create" or MOVED & set(r.new or {})][:limit]
    pupils = {
        p.id: p
        for p in db.session.scalars(
            select(Pupil).where(Pupil.id.in_({r.entity_id for r in rows if r.entity_id}))
        )
    }
    words = _Words(rows)
    only = MOVED | {"leave_reason"}
    return [
        words.line(row, pupils.get(row.entity_id or 0), only, _movement_word(row)) for row in rows
    ]


def _movement_word(row: HistoryEntry) -> LazyString:
    new = row.new or {}
    if row.action == "create":
        return _l("przyjęcie")
    if new.get("left_on"):
        return _l("odejście ze szkoły")
    if "left_on" in new and new["left_on"] is None:
        return _l("powrót do szkoły")
    return _l("przeniesienie")


@dataclass
class Record:
    pupil: Pupil
    groups: list[ClassGroup]
    guardians: list[tuple[User, Guardianship]]
    recorded: list[RecordedParent]
    former: list[User]
    history: list[Line]


def record_of(pupil: Pupil) -> Record:
    groups = list(
        db.session.scalars(
            select(ClassGroup)
            .join(GroupMembership, GroupMembership.group_id == ClassGroup.id)
            .where(GroupMembership.pupil_id == pupil.id)
            .order_by(ClassGroup.name)
        )
    )
    guardians = [
        (user, link)
        for user, link in db.session.execute(
            select(User, Guardianship)
            .join(Guardianship, Guardianship.user_id == User.id)
            .where(Guardianship.pupil_id == pupil.id)
            .order_by(User.last_name, User.first_name)
        )
    ]
    recorded = list(
        db.session.scalars(select(RecordedParent).where(RecordedParent.pupil_id == pupil.id))
    )
    former = former_guardians(pupil)
    ids = [u.id for u, _ in guardians] + [u.id for u in former]
    return Record(pupil, groups, guardians, recorded, former, register_history(pupil, ids))
