"""What happened in the demo's past lessons: topics, attendance, grades, remarks, substitutions.

Plain data in, plain rows out; `seed.py` gives the database ids and writes the rows. The numbers
aim at what a form tutor would find ordinary: most pupils present, a few ill for a day or three
(excused once the parents get round to it), some late for the first lesson, a test per subject in
a few weeks, quizzes and oral answers between, a poprawa after a bad test, now and then a remark.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ediary.demo.content import (
    DESCRIPTIONS,
    DESCRIPTIVE_GRADES,
    QUIZZED,
    REMARKS,
    TESTED,
)
from ediary.demo.topics import topics_for
from ediary.diary.models import GradeKind, RemarkKind

# Lessons per week assumed before the demo window, so that topics do not all start at the first.
_WEEKS_BEFORE = 8
_EXCUSED_AFTER = dt.timedelta(days=5)


@dataclass
class LessonFacts:
    """One lesson of the demo window (ids are database ids)."""

    key: int  # position in the seed's list of lessons
    entry: int  # timetable entry
    room: int
    date: dt.date
    slot: int
    school: int
    klass: int
    grade_level: int
    subject: str  # short name
    subject_id: int
    teacher: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    held: bool  # over before the seed's "now"
    hours: int  # weekly hours of this subject in this class
    substitute: int | None = None  # the teacher who took it instead
    cancelled: bool = False


@dataclass
class SchoolCodes:
    """A school's attendance type ids by code and grade category ids by name."""

    attendance: dict[str, int]
    categories: dict[str, int]


@dataclass
class Records:
    attendance: list[dict[str, Any]] = field(default_factory=list)
    grades: list[dict[str, Any]] = field(default_factory=list)
    remarks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Pending:
    pupil: int
    grade_id: int
    base: int


class History:
    def __init__(
        self,
        rng: random.Random,
        pupils: dict[int, list[int]],
        days: list[dt.date],
        today: dt.date,
        terms: dict[int, list[tuple[dt.date, dt.date, int]]],
        codes: dict[int, SchoolCodes],
    ) -> None:
        """`pupils` maps class id → pupil ids; `terms` maps school id → (start, end, term id)."""
        self.rng = rng
        self.pupils = pupils
        self.today = today
        self.terms = terms
        self.codes = codes
        everyone = [p for ids in pupils.values() for p in ids]
        self.ability = {p: min(5.8, max(1.6, rng.gauss(3.7, 0.85))) for p in everyone}
        self.absent: dict[tuple[int, dt.date], bool] = {}  # (pupil, day) → excused
        self.away: set[tuple[int, dt.date]] = set()  # at a competition: absent for school reasons
        past = [d for d in days if d < today]
        for pupil in everyone:
            self._illness(pupil, past)
        self.tests: set[int] = set()
        self.topic_index: dict[tuple[int, str], int] = {}
        self.last_topic: dict[tuple[int, str], str] = {}
        self.pending: dict[tuple[int, str], tuple[dt.date, list[_Pending]]] = {}
        self.first_slot: dict[tuple[int, dt.date], int] = {}
        self.last_slot: dict[tuple[int, dt.date], int] = {}

    def _illness(self, pupil: int, days: list[dt.date]) -> None:
        proneness = self.rng.choice((0.005, 0.01, 0.015, 0.02, 0.03, 0.06))
        index = 0
        while index < len(days):
            if self.rng.random() < proneness:
                length = self.rng.choice((1, 1, 2, 2, 3, 3, 4, 5))
                for day in days[index : index + length]:
                    old = self.today - day > _EXCUSED_AFTER
                    self.absent[(pupil, day)] = self.rng.random() < (0.9 if old else 0.3)
                index += length
            else:
                index += 1

    def prepare(self, lessons: list[LessonFacts], protected: set[int]) -> None:
        """Chooses test lessons, competitions and a few sick teachers before any row is made."""
        held = [lesson for lesson in lessons if lesson.held]
        for lesson in held:
            key = (lesson.klass, lesson.date)
            self.first_slot[key] = min(self.first_slot.get(key, 99), lesson.slot)
            self.last_slot[key] = max(self.last_slot.get(key, 0), lesson.slot)
        by_subject: dict[tuple[int, str], list[LessonFacts]] = {}
        for lesson in held:
            by_subject.setdefault((lesson.klass, lesson.subject), []).append(lesson)
        for (_klass, subject), series in by_subject.items():
            # A test early enough for a poprawa to follow it within the window.
            early = [s for s in series if self.today - s.date >= dt.timedelta(days=8)]
            if subject in TESTED and early:
                self.tests.add(self.rng.choice(early).key)
        self._competitions(held)
        self._sick_teachers(lessons, held, protected)

    def _competitions(self, held: list[LessonFacts]) -> None:
        """About once a fortnight per school, a few older pupils spend a day at a competition."""
        days_by_school: dict[int, set[dt.date]] = {}
        older: dict[int, set[int]] = {}
        for lesson in held:
            days_by_school.setdefault(lesson.school, set()).add(lesson.date)
            if lesson.grade_level >= 4:
                older.setdefault(lesson.school, set()).add(lesson.klass)
        for school, days in days_by_school.items():
            classes = sorted(older.get(school, ()))
            if not classes:
                continue
            for day in sorted(days):
                if self.rng.random() < 0.1:
                    pool = [p for k in classes for p in self.pupils.get(k, [])]
                    for pupil in self.rng.sample(pool, min(len(pool), self.rng.randint(2, 5))):
                        self.away.add((pupil, day))

    def _sick_teachers(
        self, lessons: list[LessonFacts], held: list[LessonFacts], protected: set[int]
    ) -> None:
        """Some past days a teacher is ill: a free colleague substitutes, or the lesson is off."""
        busy = {(lesson.teacher, lesson.date, lesson.slot) for lesson in lessons}
        teachers: dict[int, set[int]] = {}
        for lesson in lessons:
            teachers.setdefault(lesson.school, set()).add(lesson.teacher)
        days = sorted({lesson.date for lesson in held})
        for school in sorted(teachers):
            staff = teachers[school]
            candidates = sorted(staff - protected)
            for _ in range(len(days) // 7 if candidates else 0):
                ill = self.rng.choice(candidates)
                day = self.rng.choice(days)
                for lesson in held:
                    if lesson.teacher != ill or lesson.date != day:
                        continue
                    free = sorted(t for t in staff if (t, day, lesson.slot) not in busy)
                    if free and self.rng.random() < 0.8:
                        lesson.substitute = self.rng.choice(free)
                        busy.add((lesson.substitute, day, lesson.slot))
                    else:
                        lesson.cancelled = True

    def topic(self, lesson: LessonFacts) -> str:
        key = (lesson.klass, lesson.subject)
        if lesson.key in self.tests:
            return f"Sprawdzian: {self.last_topic.get(key, 'powtórzenie wiadomości')}"
        topics = topics_for(lesson.subject, lesson.grade_level)
        if key not in self.topic_index:
            # Not every class starts at the first topic: the year began weeks before the window.
            self.topic_index[key] = _WEEKS_BEFORE * lesson.hours + self.rng.randrange(3)
        index = self.topic_index[key]
        self.topic_index[key] = index + 1
        topic = topics[index % len(topics)]
        self.last_topic[key] = topic
        return topic

    def term(self, school: int, day: dt.date) -> int:
        for start, end, term_id in self.terms[school]:
            if start <= day <= end:
                return term_id
        raise LookupError(f"no term on {day}")

    def records(self, lesson: LessonFacts, lesson_id: int, teacher_id: int) -> Records:
        """Attendance for the roll, grades and remarks of one held lesson."""
        out = Records()
        codes = self.codes[lesson.school]
        present: list[int] = []
        for pupil in self.pupils.get(lesson.klass, []):
            code = self._attendance(pupil, lesson)
            if code in ("ob", "sp", "su"):
                present.append(pupil)
            minutes = self.rng.randint(1, 6)
            out.attendance.append(
                {
                    "school_id": lesson.school,
                    "lesson_id": lesson_id,
                    "pupil_id": pupil,
                    "type_id": codes.attendance[code],
                    "recorded_at": lesson.starts_at + dt.timedelta(minutes=minutes),
                    "version": 1,
                }
            )
        base = {
            "school_id": lesson.school,
            "subject_id": lesson.subject_id,
            "term_id": self.term(lesson.school, lesson.date),
            "teacher_id": teacher_id,
            "lesson_id": lesson_id,
            "kind": GradeKind.ONGOING,
            "given_on": lesson.date,
            "improves_id": None,
            "removed": False,
            "version": 1,
        }
        for pupil, value, descriptive, category, description in self._grades(lesson, present):
            out.grades.append(
                {
                    **base,
                    "pupil_id": pupil,
                    "value": value,
                    "descriptive": descriptive,
                    "category_id": codes.categories[category] if category else None,
                    "description": description,
                }
            )
        for pupil, improves, value in self._improvements(lesson, present):
            out.grades.append(
                {
                    **base,
                    "pupil_id": pupil,
                    "value": value,
                    "descriptive": None,
                    "category_id": codes.categories["sprawdzian"],
                    "description": "Poprawa sprawdzianu",
                    "improves_id": improves,
                }
            )
        if present and self.rng.random() < 0.05:
            kind = self.rng.choices(tuple(RemarkKind), (45, 45, 10))[0]
            out.remarks.append(
                {
                    "school_id": lesson.school,
                    "pupil_id": self.rng.choice(present),
                    "teacher_id": teacher_id,
                    "lesson_id": lesson_id,
                    "kind": kind,
                    "text": self.rng.choice(REMARKS[kind.value]),
                    "given_on": lesson.date,
                    "removed": False,
                    "version": 1,
                }
            )
        return out

    def _attendance(self, pupil: int, lesson: LessonFacts) -> str:
        excused = self.absent.get((pupil, lesson.date))
        if excused is not None:
            return "u" if excused else "nb"
        if (pupil, lesson.date) in self.away:
            return "ns"
        day_key = (lesson.klass, lesson.date)
        roll = self.rng.random()
        if lesson.slot == self.first_slot.get(day_key) and roll < 0.02:
            return "su" if roll < 0.004 else "sp"
        if lesson.slot == self.last_slot.get(day_key) and roll < 0.004:
            return "zw"
        return "ob"

    def _value(self, pupil: int, harder: float = 0.0) -> str:
        x = min(6.0, max(1.0, self.rng.gauss(self.ability[pupil] - harder, 0.75)))
        whole = round(x)
        if x - whole > 0.2 and whole < 6:
            return f"{whole}+"
        if whole - x > 0.2 and whole > 1:
            return f"{whole}-"
        return str(whole)

    def _grades(
        self, lesson: LessonFacts, present: list[int]
    ) -> Iterable[tuple[int, str | None, str | None, str | None, str | None]]:
        rng, subject = self.rng, lesson.subject
        if not present or subject == "gw":
            return
        unit = self.last_topic.get((lesson.klass, subject), "")
        if lesson.key in self.tests:
            for pupil in present:
                yield (
                    pupil,
                    self._value(pupil, 0.3),
                    None,
                    "sprawdzian",
                    f"Sprawdzian: {unit}"[:200],
                )
            return
        if subject in QUIZZED and rng.random() < 1 / (2 * lesson.hours):
            for pupil in present:
                yield pupil, self._value(pupil, 0.1), None, "kartkówka", f"Kartkówka: {unit}"[:200]
        if subject == "ew":
            for pupil in rng.sample(present, min(len(present), rng.randint(0, 4))):
                if rng.random() < 0.45:
                    yield pupil, None, rng.choice(DESCRIPTIVE_GRADES), None, None
                else:
                    category = rng.choice(("odpowiedź", "praca domowa", "aktywność"))
                    yield pupil, self._value(pupil, -0.4), None, category, DESCRIPTIONS[category]
            return
        if subject in ("wf", "rel", "muz", "plast", "tech"):
            if rng.random() < 0.4:
                for pupil in rng.sample(present, min(len(present), rng.randint(1, 4))):
                    yield pupil, self._value(pupil, -1.0), None, "aktywność", "Aktywność na lekcji"
            return
        for pupil in rng.sample(present, min(len(present), rng.choice((0, 1, 1, 2)))):
            yield pupil, self._value(pupil), None, "odpowiedź", DESCRIPTIONS["odpowiedź"]
        if rng.random() < 0.12:
            for pupil in rng.sample(present, min(len(present), rng.randint(2, 5))):
                yield pupil, self._value(pupil, -0.3), None, "praca domowa", "Praca domowa"
        if rng.random() < 0.35:
            for pupil in rng.sample(present, min(len(present), rng.randint(1, 2))):
                yield pupil, "+", None, "aktywność", DESCRIPTIONS["aktywność"]
        if rng.random() < 0.05:
            yield rng.choice(present), "-", None, "aktywność", "Brak pracy na lekcji"
        if rng.random() < 0.15:
            yield rng.choice(present), "np", None, "inne", DESCRIPTIONS["np"]
        if rng.random() < 0.08:
            yield rng.choice(present), "bz", None, "inne", DESCRIPTIONS["bz"]

    def saved_grades(self, lesson: LessonFacts, rows: list[dict[str, Any]], ids: list[int]) -> None:
        """Remembers a test's weak grades (with their ids) for a poprawa in a later lesson."""
        if lesson.key not in self.tests:
            return
        weak = []
        for row, grade_id in zip(rows, ids, strict=True):
            value = str(row["value"] or "")
            if (
                row["description"]
                and str(row["description"]).startswith("Sprawdzian")
                and value[:1] in "12"
            ):
                weak.append(_Pending(row["pupil_id"], grade_id, int(value[0])))
        self.pending[(lesson.klass, lesson.subject)] = (lesson.date, weak)

    def _improvements(
        self, lesson: LessonFacts, present: list[int]
    ) -> Iterable[tuple[int, int, str]]:
        key = (lesson.klass, lesson.subject)
        if key not in self.pending or lesson.key in self.tests:
            return
        test_day, weak = self.pending[key]
        if lesson.date - test_day < dt.timedelta(days=5):
            return
        del self.pending[key]
        for item in weak:
            if item.pupil in present and self.rng.random() < 0.6:
                better = min(6, item.base + self.rng.choice((1, 1, 2)))
                yield item.pupil, item.grade_id, str(better)
