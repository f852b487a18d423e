"""Teaching assignments and a weekly timetable for one school, with no double booking.

A greedy timetabler, good enough for a demo: it fills the week slot by slot, placing first the
classes with the fewest teachers free, so every class gets its hours in a compact day and no
teacher, room or class is ever in two places at once. Real schools use a proper solver.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

from ediary.demo.content import SUBJECT_BY_SHORT, WEEKLY_HOURS

SLOTS = 8
DAYS = 5
SPECIALTIES = ("polish", "languages", "maths", "science", "humanities", "pe", "religion")
# In grades 1-3 the class's own teacher teaches these (and is its form tutor).
OWN_TEACHER = frozenset({"ew", "wf"})


@dataclass(frozen=True)
class Assignment:
    teacher: int
    klass: int
    subject: str  # a short name from content.SUBJECTS
    hours: int


@dataclass(frozen=True)
class Entry:
    assignment: int
    weekday: int  # 0 = Monday
    slot: int  # 1..SLOTS
    room: int


def _specialty_hours(grades: list[int]) -> Counter[str]:
    hours: Counter[str] = Counter()
    for grade in grades:
        for subject, count in WEEKLY_HOURS[grade].items():
            specialty = SUBJECT_BY_SHORT[subject].specialty
            if specialty == "tutor" or (grade <= 3 and subject in OWN_TEACHER):
                continue
            hours[specialty] += count
    return hours


def specialties(grades: list[int], teachers: int) -> list[str]:
    """One class teacher per class of grades 1-3; the rest split by hours (largest remainder)."""
    early = sum(1 for grade in grades if grade <= 3)
    hours = _specialty_hours(grades)
    needed = [s for s in SPECIALTIES if hours[s]]
    rest = teachers - early
    if rest < len(needed):
        raise ValueError(f"{teachers} teachers cannot cover {len(needed)} specialties")
    total = sum(hours.values())
    quota = {s: hours[s] * rest / total for s in needed}
    counts = {s: max(1, int(quota[s])) for s in needed}
    while sum(counts.values()) < rest:
        counts[max(needed, key=lambda s: quota[s] - counts[s])] += 1
    while sum(counts.values()) > rest:
        counts[min((s for s in needed if counts[s] > 1), key=lambda s: quota[s] - counts[s])] -= 1
    return ["early"] * early + [s for s in needed for _ in range(counts[s])]


def assign_teachers(
    rng: random.Random, classes: list[tuple[int, int]], teachers: list[tuple[int, str]]
) -> tuple[list[Assignment], dict[int, int]]:
    """The przydział: who teaches what to whom. Returns the assignments and each class's tutor.

    `classes` are (class id, grade); `teachers` are (teacher id, specialty).
    """
    early = iter([t for t, specialty in teachers if specialty == "early"])
    tutors = {c: next(early) for c, grade in classes if grade <= 3}
    load: Counter[int] = Counter()
    taught: dict[int, Counter[int]] = {c: Counter() for c, _ in classes}
    assignments: list[Assignment] = []
    for klass, grade in classes:
        for subject, hours in WEEKLY_HOURS[grade].items():
            specialty = SUBJECT_BY_SHORT[subject].specialty
            if specialty == "tutor":
                continue
            if grade <= 3 and subject in OWN_TEACHER:
                teacher = tutors[klass]
            else:
                pool = [t for t, s in teachers if s == specialty]
                # Least loaded, but a teacher who already has this class keeps it when close.
                teacher = min(
                    pool, key=lambda t: (load[t] - 4 * (t in taught[klass]), rng.random())
                )
            load[teacher] += hours
            taught[klass][teacher] += hours
            assignments.append(Assignment(teacher, klass, subject, hours))
    tutored = set(tutors.values())
    for klass, grade in classes:
        if grade <= 3:
            continue
        specialty_of = dict(teachers)
        candidates = [
            t for t in taught[klass] if t not in tutored and specialty_of[t] != "religion"
        ] or [t for t, s in teachers if t not in tutored and s != "early"]
        tutor = max(candidates, key=lambda t: (taught[klass][t], rng.random()))
        tutors[klass] = tutor
        tutored.add(tutor)
        hours = WEEKLY_HOURS[grade].get("gw", 0)
        if hours:
            assignments.append(Assignment(tutor, klass, "gw", hours))
    return assignments, tutors


def _max_per_day(subject: str, hours: int) -> int:
    return 4 if subject == "ew" else max(1, math.ceil(hours / DAYS)) + (1 if hours >= 3 else 0)


def _daily_targets(rng: random.Random, hours: int) -> list[int]:
    base, extra = divmod(hours, DAYS)
    targets = [base] * DAYS
    for day in rng.sample(range(DAYS), extra):
        targets[day] += 1
    return targets


class _Week:
    """What is taken, per (weekday, slot): teachers, rooms and classes."""

    def __init__(self) -> None:
        self.teachers: set[tuple[int, int, int]] = set()
        self.rooms: set[tuple[int, int, int]] = set()
        self.classes: set[tuple[int, int, int]] = set()
        self.subject_day: Counter[tuple[int, str, int]] = Counter()

    def free(self, assignment: Assignment, day: int, slot: int) -> bool:
        return (assignment.teacher, day, slot) not in self.teachers and (
            assignment.klass,
            day,
            slot,
        ) not in self.classes

    def take(self, assignment: Assignment, day: int, slot: int, room: int) -> None:
        self.teachers.add((assignment.teacher, day, slot))
        self.classes.add((assignment.klass, day, slot))
        self.rooms.add((room, day, slot))
        self.subject_day[(assignment.klass, assignment.subject, day)] += 1


def _room_order(assignment: Assignment, home: int | None, kinds: dict[int, str]) -> list[int]:
    wanted = SUBJECT_BY_SHORT[assignment.subject].room
    special = [r for r, kind in kinds.items() if kind == wanted]
    general = [r for r, kind in kinds.items() if kind == "general" and r != home]
    labs = [r for r, kind in kinds.items() if kind not in ("general", "gym", wanted)]
    gym = [r for r, kind in kinds.items() if kind == "gym" and kind != wanted]
    own = [home] if home is not None else []
    return special + own + general + labs + gym


def schedule(
    rng: random.Random,
    assignments: list[Assignment],
    first_id: int,
    homes: dict[int, int | None],
    rooms: dict[int, str],
) -> tuple[list[Entry], int]:
    """Places every assignment's weekly hours; returns the entries and the hours left unplaced.

    `first_id` is the id of `assignments[0]`; `homes` maps class → its own room; `rooms` maps
    room → kind ("general", "gym", "computers", "science").
    """
    week = _Week()
    remaining = {first_id + i: a.hours for i, a in enumerate(assignments)}
    by_id = {first_id + i: a for i, a in enumerate(assignments)}
    of_class: dict[int, list[int]] = {}
    for assignment_id, assignment in by_id.items():
        of_class.setdefault(assignment.klass, []).append(assignment_id)
    targets = {
        klass: _daily_targets(rng, sum(by_id[a].hours for a in ids))
        for klass, ids in of_class.items()
    }
    entries: list[Entry] = []
    for day in range(DAYS):
        done: Counter[int] = Counter()
        for slot in range(1, SLOTS + 1):
            wanting = [k for k in of_class if done[k] < targets[k][day]]
            options = {k: _options(week, by_id, remaining, of_class[k], day, slot) for k in wanting}
            # Most constrained first, so that a class with few teachers free is not starved.
            wanting.sort(key=lambda k: (len(options[k]), rng.random()))
            chosen: dict[int, int] = {}
            taken_teachers: set[int] = set()
            for klass in wanting:
                free = [a for a in options[klass] if by_id[a].teacher not in taken_teachers]
                if not free:
                    continue
                pick = max(free, key=lambda a: _priority(week, by_id[a], remaining[a], day, rng))
                chosen[klass] = pick
                taken_teachers.add(by_id[pick].teacher)
            # Rooms after lessons; when rooms run short, the class with the most hours still to
            # place goes first (a light class of grades 1-3 may then start an hour later).
            left = {k: sum(remaining[a] for a in of_class[k]) for k in chosen}
            for klass, assignment_id in sorted(chosen.items(), key=lambda item: -left[item[0]]):
                assignment = by_id[assignment_id]
                room = next(
                    (
                        r
                        for r in _room_order(assignment, homes[klass], rooms)
                        if (r, day, slot) not in week.rooms
                    ),
                    None,
                )
                if room is None:
                    continue
                week.take(assignment, day, slot, room)
                remaining[assignment_id] -= 1
                done[klass] += 1
                entries.append(Entry(assignment_id, day, slot, room))
        # A class that could not get all of today's lessons gets them another day.
        if day + 1 < DAYS:
            for klass in of_class:
                targets[klass][day + 1] += max(0, targets[klass][day] - done[klass])
    entries.extend(_leftovers(week, by_id, remaining, homes, rooms))
    return entries, sum(remaining.values())


def _options(
    week: _Week,
    by_id: dict[int, Assignment],
    remaining: dict[int, int],
    ids: list[int],
    day: int,
    slot: int,
) -> list[int]:
    return [
        a
        for a in ids
        if remaining[a] > 0
        and week.free(by_id[a], day, slot)
        and week.subject_day[(by_id[a].klass, by_id[a].subject, day)]
        < _max_per_day(by_id[a].subject, by_id[a].hours)
    ]


def _priority(
    week: _Week, assignment: Assignment, remaining: int, day: int, rng: random.Random
) -> tuple[float, float]:
    today = week.subject_day[(assignment.klass, assignment.subject, day)]
    # Spread a subject over the week: hours left count for it, hours taught today against it.
    return (remaining / max(1, DAYS - day) - 1.5 * today, rng.random())


def _leftovers(
    week: _Week,
    by_id: dict[int, Assignment],
    remaining: dict[int, int],
    homes: dict[int, int | None],
    rooms: dict[int, str],
) -> list[Entry]:
    """Hours the day-by-day pass could not place go wherever class, teacher and a room are free."""
    entries = []
    for assignment_id, assignment in by_id.items():
        for day in range(DAYS):
            for slot in range(1, SLOTS + 1):
                if remaining[assignment_id] == 0:
                    break
                if not week.free(assignment, day, slot):
                    continue
                room = next(
                    (
                        r
                        for r in _room_order(assignment, homes[assignment.klass], rooms)
                        if (r, day, slot) not in week.rooms
                    ),
                    None,
                )
                if room is None:
                    continue
                week.take(assignment, day, slot, room)
                remaining[assignment_id] -= 1
                entries.append(Entry(assignment_id, day, slot, room))
    return entries
