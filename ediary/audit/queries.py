"""A pupil's change history as people read it: what, which field, old → new, who, when, how.

The history rows hold raw column values (ids, codes); this module turns them into words for the
parent-visible history page (§21 ust. 3 pkt 4, and the parents' right of access). Only the
pupil's own diary entries are shown (grades, attendance, remarks): links to guardians and other
administrative rows are not entries about the child's schooling and name other adults.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Channel
from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType, Grade, GradeCategory, Remark
from ediary.people.models import User
from ediary.schools.models import Pupil, Subject
from ediary.timetable.models import Lesson

PAGE_SIZE = 100

ENTITY_NAMES: dict[str, LazyString] = {
    "grades": _l("ocena"),
    "attendance": _l("frekwencja"),
    "remarks": _l("uwaga"),
}
# Per entity: the fields a reader cares about, in display order, with their labels.
FIELDS: dict[str, dict[str, LazyString]] = {
    "grades": {
        "value": _l("ocena"),
        "descriptive": _l("ocena opisowa"),
        "kind": _l("rodzaj"),
        "category_id": _l("kategoria"),
        "description": _l("opis"),
        "given_on": _l("data"),
        "removed": _l("usunięta"),
    },
    "attendance": {"type_id": _l("obecność")},
    "remarks": {
        "kind": _l("rodzaj"),
        "text": _l("treść"),
        "removed": _l("usunięta"),
    },
}
CHANNEL_NAMES: dict[str, LazyString] = {
    Channel.WEB.value: _l("przeglądarka"),
    Channel.KIOSK.value: _l("komputer w sali"),
    Channel.CLI.value: _l("administrator systemu"),
    Channel.SYSTEM.value: _l("system"),
    Channel.IMPORT.value: _l("import danych"),
}
KIND_NAMES: dict[str, LazyString] = {
    "ongoing": _l("bieżąca"),
    "proposed_term": _l("przewidywana śródroczna"),
    "term": _l("śródroczna"),
    "proposed_year": _l("przewidywana roczna"),
    "year": _l("roczna"),
    "positive": _l("pozytywna"),
    "negative": _l("negatywna"),
    "neutral": _l("neutralna"),
}
# Values of a new entry not worth a line: empty fields, an ongoing grade, "not removed".
_UNREMARKABLE: dict[str, tuple[Any, ...]] = {"kind": (None, "ongoing"), "removed": (None, False)}
ACTION_NAMES: dict[str, LazyString] = {
    "create": _l("dodano"),
    "update": _l("zmieniono"),
    "delete": _l("usunięto"),
}


Word: TypeAlias = str | LazyString | dt.date | None


@dataclass(frozen=True)
class FieldChange:
    label: str | LazyString
    old: Word
    new: Word


@dataclass(frozen=True)
class Change:
    id: int
    at: dt.datetime
    who: str | LazyString
    channel: str | LazyString
    entity: str | LazyString
    action: str | LazyString
    created: bool  # a new entry has no old values to show
    # Which entry it was: the subject, and the date (and lesson number) it belongs to.
    subject: str | None
    date: dt.date | None
    slot: int | None
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class LastChange:
    """Who made the newest change of a row, when, through what (a conflict names it)."""

    by: str | None  # the person's full name; None for a change the system made
    at: dt.datetime
    channel: str  # a `Channel` value

    def as_dict(self) -> dict[str, Any]:
        return {"by": self.by, "at": self.at.isoformat(), "channel": self.channel}


def last_changes(
    entity: str, ids: Iterable[int], field: str | None = None
) -> dict[int, LastChange]:
    """The newest history row of each row `ids` of `entity` (that changed `field`, if given).

    Read only when a conflict is reported: a row has a handful of history rows, so filtering
    `field` here in Python is simpler than a JSON query that reads the same on both databases.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == entity, HistoryEntry.entity_id.in_(wanted))
        .order_by(HistoryEntry.id.desc())
    )
    found: dict[int, HistoryEntry] = {}
    for row in rows:
        if row.entity_id is None or row.entity_id in found:
            continue
        if field is None or field in (row.new or {}):
            found[row.entity_id] = row
    users = _by_id(User, {r.actor_id for r in found.values() if r.actor_id is not None})
    return {
        entity_id: LastChange(
            by=users[row.actor_id].full_name if row.actor_id in users else None,
            at=row.at,
            channel=row.channel,
        )
        for entity_id, row in found.items()
    }


@dataclass(frozen=True)
class HistoryPage:
    changes: list[Change]
    older_than: int | None  # the id to continue from, when there are older changes


def pupil_history(pupil: Pupil, before: int | None = None, limit: int = PAGE_SIZE) -> HistoryPage:
    """Newest first, `limit` at a time; `before` continues from an earlier page."""
    query = (
        select(HistoryEntry)
        .where(HistoryEntry.pupil_id == pupil.id, HistoryEntry.entity.in_(list(FIELDS)))
        .order_by(HistoryEntry.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(HistoryEntry.id < before)
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    words = _Vocabulary(pupil.school_id, rows)
    changes = [c for c in (words.change(row) for row in rows) if c.fields]
    return HistoryPage(changes, rows[-1].id if more and rows else None)


class _Vocabulary:
    """Looks up, in a few batched queries, the names the raw history values refer to."""

    def __init__(self, school_id: int, rows: list[HistoryEntry]) -> None:
        def ids(entity: str) -> set[int]:
            return {r.entity_id for r in rows if r.entity == entity and r.entity_id is not None}

        self.users = _by_id(User, {r.actor_id for r in rows if r.actor_id is not None})
        self.types = {
            t.id: t
            for t in db.session.scalars(
                select(AttendanceType).where(AttendanceType.school_id == school_id)
            )
        }
        self.categories = {
            c.id: c
            for c in db.session.scalars(
                select(GradeCategory).where(GradeCategory.school_id == school_id)
            )
        }
        self.grades = _by_id(Grade, ids("grades"))
        self.remarks = _by_id(Remark, ids("remarks"))
        self.attendance = _by_id(Attendance, ids("attendance"))
        lesson_ids = {a.lesson_id for a in self.attendance.values()}
        self.lessons = _by_id(Lesson, lesson_ids)
        subject_ids = {g.subject_id for g in self.grades.values()} | {
            lesson.subject_id for lesson in self.lessons.values()
        }
        self.subjects = _by_id(Subject, subject_ids)

    def change(self, row: HistoryEntry) -> Change:
        old, new = row.old or {}, row.new or {}
        fields = []
        for key, label in FIELDS[row.entity].items():
            if key not in old and key not in new:
                continue
            if row.action == "create" and new.get(key) in _UNREMARKABLE.get(key, (None,)):
                continue  # a new entry's empty or default fields say nothing
            before, after = self.word(key, old.get(key)), self.word(key, new.get(key))
            fields.append(FieldChange(label, before, after))
        actor = self.users.get(row.actor_id) if row.actor_id is not None else None
        subject, date, slot = self.about(row)
        return Change(
            id=row.id,
            at=row.at,
            who=actor.full_name if actor is not None else CHANNEL_NAMES[Channel.SYSTEM.value],
            channel=CHANNEL_NAMES.get(row.channel, row.channel),
            entity=ENTITY_NAMES[row.entity],
            action=ACTION_NAMES.get(row.action, row.action),
            created=row.action == "create",
            subject=subject,
            date=date,
            slot=slot,
            fields=tuple(fields),
        )

    def about(self, row: HistoryEntry) -> tuple[str | None, dt.date | None, int | None]:
        entity_id = row.entity_id or 0
        if row.entity == "grades" and (grade := self.grades.get(entity_id)):
            return self._subject(grade.subject_id), grade.given_on, None
        if row.entity == "attendance" and (record := self.attendance.get(entity_id)):
            lesson = self.lessons[record.lesson_id]
            return self._subject(lesson.subject_id), lesson.date, lesson.slot_number
        if row.entity == "remarks" and (remark := self.remarks.get(entity_id)):
            return None, remark.given_on, None
        return None, None, None

    def _subject(self, subject_id: int) -> str | None:
        subject = self.subjects.get(subject_id)
        return subject.name if subject is not None else None

    def word(self, key: str, value: Any) -> Word:
        if value is None:
            return None
        readers: dict[str, Callable[[Any], Word]] = {
            "type_id": self._type,
            "category_id": self._category,
            "kind": lambda v: KIND_NAMES.get(v, v),
            "removed": lambda v: _l("tak") if v else _l("nie"),
            "given_on": _date,
        }
        reader = readers.get(key)
        return reader(value) if reader is not None else str(value)

    def _type(self, type_id: int) -> str:
        found = self.types.get(type_id)
        return f"{found.name} ({found.code})" if found is not None else "?"

    def _category(self, category_id: int) -> str | LazyString:
        found = self.categories.get(category_id)
        if found is None:
            return "?"
        return _l("%(name)s (waga %(weight)s)", name=found.name, weight=found.weight)


def _date(value: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value


T = TypeVar("T")


def _by_id(model: type[T], ids: Iterable[int]) -> dict[int, T]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.session.scalars(select(model).where(model.id.in_(wanted)))  # type: ignore[attr-defined]
    return {row.id: row for row in rows}  # type: ignore[attr-defined]
