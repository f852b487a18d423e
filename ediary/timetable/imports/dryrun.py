"""A timetable file against the school's plan: per row new / changed (old → new) / unchanged /
refused with the reason, and the commit of exactly that in one operation.

The file replaces, from `from_date`, the plan of the classes it names (an aSc export names them
all; a CSV may name a few): their entries the file does not have end the day before ("removed").
Teachers must exist (matched by name either way round, or by login, ignoring case and Polish
diacritics; an unknown one refuses its rows); classes must exist in the school year; subjects,
rooms and groups the school does not have yet are made. The same file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from flask_babel import gettext
from sqlalchemy import select

from ediary.db import db
from ediary.errors import Refusal
from ediary.people.models import Membership, Role, User
from ediary.schools.models import ClassGroup, Room, School, SchoolClass, Subject
from ediary.timetable.grid import plan_on, year_of
from ediary.timetable.imports.result import DryRun, Row, Wanted
from ediary.timetable.imports.source import Card, Source, folded
from ediary.timetable.models import BellSlot, TeachingAssignment, TimetableEntry
from ediary.timetable.planning import SlotTimes, check_bells

DAY_NAMES = ("pon.", "wt.", "śr.", "czw.", "pt.")


def _(message: str, **values: object) -> str:
    """Flask-Babel's gettext, typed (the library has no annotations)."""
    return str(gettext(message, **values))


class _Names:
    """The school's teachers, classes, groups, subjects and rooms by folded name."""

    def __init__(self, school: School, on: dt.date) -> None:
        year = year_of(school, on)
        teachers = db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.school_id == school.id, Membership.role == Role.TEACHER)
        ).all()
        self.teachers: dict[str, User] = {}
        for t in teachers:
            for name in (f"{t.first_name} {t.last_name}", f"{t.last_name} {t.first_name}", t.login):
                self.teachers.setdefault(folded(name), t)
        self.classes = {
            folded(c.name): c
            for c in db.session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id))
        }
        self.groups = {
            (g.class_id, folded(g.name)): g
            for g in db.session.scalars(select(ClassGroup).where(ClassGroup.school_id == school.id))
        }
        self.subjects: dict[str, Subject] = {}
        for s in db.session.scalars(select(Subject).where(Subject.school_id == school.id)):
            self.subjects.setdefault(folded(s.name), s)
            self.subjects.setdefault(folded(s.short_name), s)
        self.rooms = {
            folded(r.name): r
            for r in db.session.scalars(select(Room).where(Room.school_id == school.id))
        }

    def teacher(self, card: Card) -> User | None:
        return self.teachers.get(folded(card.teacher)) or self.teachers.get(
            folded(card.teacher_short)
        )

    def subject_key(self, card: Card) -> str:
        found = self.subjects.get(folded(card.subject)) or self.subjects.get(
            folded(card.subject_short)
        )
        return folded(found.name) if found is not None else folded(card.subject)

    def room_key(self, card: Card) -> str:
        for name in (card.room_short, card.room):
            if folded(name) in self.rooms:
                return folded(name)
        return folded(card.room_short or card.room)


def describe(
    weekday: int,
    slot: int,
    subject: str,
    class_name: str,
    group: str | None,
    teacher: str,
    room: str,
) -> str:
    day = DAY_NAMES[weekday] if 0 <= weekday < 5 else "?"
    who = f"{class_name} ({group})" if group else class_name
    return f"{day} {slot}: {subject}, {who}, {teacher}, {_('sala')} {room}"


def _entry_text(entry: TimetableEntry) -> str:
    a = entry.assignment
    subject = db.session.get_one(Subject, a.subject_id)
    school_class = db.session.get_one(SchoolClass, a.class_id)
    group = db.session.get(ClassGroup, a.group_id) if a.group_id else None
    teacher = db.session.get_one(User, a.teacher_id)
    room = db.session.get_one(Room, entry.room_id)
    return describe(
        entry.weekday,
        entry.slot_number,
        subject.name,
        school_class.name,
        group.name if group else None,
        teacher.full_name,
        room.name,
    )


def _entry_key(entry: TimetableEntry) -> tuple[object, ...]:
    a = entry.assignment
    subject = db.session.get_one(Subject, a.subject_id)
    group = db.session.get(ClassGroup, a.group_id) if a.group_id else None
    return (
        entry.weekday,
        entry.slot_number,
        a.class_id,
        folded(group.name) if group else None,
        folded(subject.name),
        a.teacher_id,
    )


def dry_run(school: School, source: Source, from_date: dt.date) -> DryRun:
    """Reads only: what the commit would do, row by row."""
    result = DryRun()
    names = _Names(school, from_date)
    _bells(school, source, result)
    slots = {b.number for b in result.bells}
    plan = plan_on(school.id, from_date)
    hours = Counter(
        (
            folded(c.class_name),
            c.group_name and folded(c.group_name),
            folded(c.subject),
            folded(c.teacher),
        )
        for c in source.cards
    )
    taken: dict[tuple[str, int, int, object], int] = {}  # (kind, weekday, slot, who) -> line
    accepted: list[tuple[Card, Wanted]] = []
    for card in source.cards:
        what = describe(
            card.weekday,
            card.slot_number,
            card.subject,
            card.class_name,
            card.group_name,
            card.teacher,
            card.room_short or card.room,
        )
        reason = card.problem or _check(card, names, slots)
        if reason is not None:
            result.rows.append(Row(card.line, what, "refused", reason=reason))
            continue
        teacher = names.teacher(card)
        school_class = names.classes[folded(card.class_name)]
        assert teacher is not None
        group = folded(card.group_name) if card.group_name else None
        wanted = Wanted(
            card.weekday,
            card.slot_number,
            school_class,
            group,
            card.group_name,
            names.subject_key(card),
            card.subject,
            card.subject_short or card.subject[:12],
            teacher,
            names.room_key(card),
            card.room_short or card.room,
            card.weekly_hours
            or hours[(folded(card.class_name), group, folded(card.subject), folded(card.teacher))],
        )
        clash = _clash(taken, card, wanted)
        if clash is not None:
            result.rows.append(Row(card.line, what, "refused", reason=clash))
            continue
        accepted.append((card, wanted))
    result.class_ids = {w.school_class.id for _c, w in accepted}
    mine = [e for e in plan if e.assignment.class_id in result.class_ids]
    by_key = {_entry_key(e): e for e in mine}
    matched: set[int] = set()
    for card, wanted in accepted:
        key = (
            wanted.weekday,
            wanted.slot_number,
            wanted.school_class.id,
            wanted.group,
            wanted.subject,
            wanted.teacher.id,
        )
        entry = by_key.get(key)
        what = describe(
            wanted.weekday,
            wanted.slot_number,
            card.subject,
            wanted.school_class.name,
            wanted.group_name,
            wanted.teacher.full_name,
            wanted.room_name,
        )
        if (
            entry is not None
            and folded(db.session.get_one(Room, entry.room_id).name) == wanted.room
        ):
            matched.add(entry.id)
            result.keeping.add(entry.id)
            result.rows.append(Row(card.line, what, "unchanged"))
            continue
        if entry is not None:
            matched.add(entry.id)
            result.closing.append(entry)
        before = [
            e
            for e in mine
            if e.weekday == wanted.weekday
            and e.slot_number == wanted.slot_number
            and e.assignment.class_id == wanted.school_class.id
            and e.id != (entry.id if entry else None)
            and _overlap(e, wanted)
        ]
        old = entry or (before[0] if before else None)
        result.wanted.append(wanted)
        if old is None:
            result.rows.append(Row(card.line, what, "new"))
        else:
            result.rows.append(Row(card.line, what, "changed", old=_entry_text(old)))
    for entry in mine:
        if entry.id not in matched:
            result.closing.append(entry)
            result.rows.append(Row(None, _entry_text(entry), "removed"))
    _assignments(school, result, accepted)
    return result


def _overlap(entry: TimetableEntry, wanted: Wanted) -> bool:
    group = (
        db.session.get(ClassGroup, entry.assignment.group_id) if entry.assignment.group_id else None
    )
    return group is None or wanted.group is None or folded(group.name) == wanted.group


def _check(card: Card, names: _Names, slots: set[int]) -> str | None:
    if names.teacher(card) is None:
        return _(
            "nieznany nauczyciel „%(name)s”: nie ma go wśród nauczycieli szkoły",
            name=card.teacher or card.teacher_short,
        )
    if folded(card.class_name) not in names.classes:
        return _("nie ma klasy „%(name)s” w tym roku szkolnym", name=card.class_name)
    if not card.subject:
        return _("brak przedmiotu")
    if not (card.room or card.room_short):
        return _("brak sali")
    if card.slot_number not in slots:
        return _("nie ma lekcji nr %(n)s w dzwonkach", n=card.slot_number)
    return None


def _clash(taken: dict[tuple[str, int, int, object], int], card: Card, w: Wanted) -> str | None:
    """Two lines of the file in one slot: the same teacher, room or pupils (a lesson that joins
    two classes is one card: the same line is no clash)."""
    checks = [
        ("teacher", w.teacher.id, _("nauczyciel ma już lekcję w tym czasie (wiersz %(line)s)")),
        ("room", w.room, _("sala jest zajęta w tym czasie (wiersz %(line)s)")),
        (
            "class",
            (w.school_class.id, w.group),
            _("klasa ma już lekcję w tym czasie (wiersz %(line)s)"),
        ),
        (
            "class",
            (w.school_class.id, None),
            _("klasa ma już lekcję w tym czasie (wiersz %(line)s)"),
        ),
    ]
    for kind, who, message in checks:
        line = taken.get((kind, w.weekday, w.slot_number, who))
        if line is not None and line != card.line:
            return message % {"line": line}
    if w.group is None:
        for (kind, day, slot, who), line in taken.items():
            if (
                kind == "class"
                and day == w.weekday
                and slot == w.slot_number
                and isinstance(who, tuple)
                and who[0] == w.school_class.id
                and line != card.line
            ):
                return _("klasa ma już lekcję w tym czasie (wiersz %(line)s)") % {"line": line}
    for kind, who, _message in checks[:3]:
        taken[(kind, w.weekday, w.slot_number, who)] = card.line
    return None


def _bells(school: School, source: Source, result: DryRun) -> None:
    current = {
        s.number: s
        for s in db.session.scalars(select(BellSlot).where(BellSlot.school_id == school.id))
    }
    merged = {n: SlotTimes(n, s.starts_at, s.ends_at) for n, s in current.items()}
    rows = []
    for period in source.periods:
        what = _(
            "dzwonek: lekcja %(n)s, %(start)s-%(end)s",
            n=period.number,
            start=f"{period.starts_at:%H:%M}",
            end=f"{period.ends_at:%H:%M}",
        )
        old = current.get(period.number)
        if old is None:
            rows.append(Row(None, what, "new"))
        elif (old.starts_at, old.ends_at) != (period.starts_at, period.ends_at):
            rows.append(
                Row(None, what, "changed", old=f"{old.starts_at:%H:%M}-{old.ends_at:%H:%M}")
            )
        else:
            rows.append(Row(None, what, "unchanged"))
        merged[period.number] = SlotTimes(period.number, period.starts_at, period.ends_at)
    try:
        check_bells(list(merged.values()))
    except Refusal as refusal:
        for row in rows:
            if row.status != "unchanged":
                row.status, row.reason = "refused", str(refusal.message)
        merged = {n: SlotTimes(n, s.starts_at, s.ends_at) for n, s in current.items()}
    result.rows.extend(rows)
    result.bells = sorted(merged.values(), key=lambda s: s.number)
    result.bells_change = any(r.status in ("new", "changed") for r in rows)


def _assignments(school: School, result: DryRun, accepted: list[tuple[Card, Wanted]]) -> None:
    """The hours of each assignment the file implies, as rows of their own."""
    seen: dict[tuple[object, ...], Wanted] = {}
    for _card, w in accepted:
        seen.setdefault((w.teacher.id, w.school_class.id, w.group, w.subject), w)
    existing: dict[tuple[object, ...], TeachingAssignment] = {}
    for a in db.session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.school_id == school.id)
    ):
        subject = db.session.get_one(Subject, a.subject_id)
        group = db.session.get(ClassGroup, a.group_id) if a.group_id else None
        existing[
            (a.teacher_id, a.class_id, folded(group.name) if group else None, folded(subject.name))
        ] = a
    for key, w in seen.items():
        what = _(
            "przydział: %(teacher)s, %(subject)s, %(cls)s, %(n)s godz. tyg.",
            teacher=w.teacher.full_name,
            subject=w.subject_name,
            cls=f"{w.school_class.name} ({w.group_name})" if w.group_name else w.school_class.name,
            n=w.hours,
        )
        found = existing.get(key)
        if found is None or found.weekly_hours != w.hours:
            result.assignments.append(w)
        if found is None:
            result.rows.append(Row(None, what, "new"))
        elif found.weekly_hours != w.hours:
            result.rows.append(
                Row(None, what, "changed", old=_("%(n)s godz. tyg.", n=found.weekly_hours))
            )
        else:
            result.rows.append(Row(None, what, "unchanged"))
