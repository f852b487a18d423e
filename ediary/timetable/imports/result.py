"""A dry run's answer: its rows as the page shows them, and what the commit will do."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ediary.people.models import User
from ediary.schools.models import SchoolClass
from ediary.timetable.models import TimetableEntry
from ediary.timetable.planning import SlotTimes


@dataclass
class Row:
    line: int | None
    what: str
    status: str  # new, changed, unchanged, refused, removed
    old: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Wanted:
    """An accepted card, in the school's terms (names where the row is still to be made)."""

    weekday: int
    slot_number: int
    school_class: SchoolClass
    group: str | None  # folded group name; None: the whole class
    group_name: str | None
    subject: str  # folded
    subject_name: str
    subject_short: str
    teacher: User
    room: str  # folded
    room_name: str
    hours: int


@dataclass
class DryRun:
    rows: list[Row] = field(default_factory=list)
    bells: list[SlotTimes] = field(default_factory=list)  # the schedule after the import
    bells_change: bool = False
    wanted: list[Wanted] = field(default_factory=list)
    closing: list[TimetableEntry] = field(default_factory=list)
    keeping: set[int] = field(default_factory=set)  # entries the file has as they are
    assignments: list[Wanted] = field(default_factory=list)  # new, or with other hours
    class_ids: set[int] = field(default_factory=set)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def digest(self) -> str:
        """What the dry run showed, in a few characters: the commit's stale check."""
        shown = "\n".join(f"{r.line}|{r.status}|{r.what}|{r.old}|{r.reason}" for r in self.rows)
        return hashlib.sha256(shown.encode()).hexdigest()[:16]

    @property
    def changes(self) -> bool:
        return any(row.status in ("new", "changed", "removed") for row in self.rows)
