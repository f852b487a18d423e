"""Read-only computations: weighted averages, attendance percentages, the attendance types."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select

from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType, Grade, GradeKind, Presence
from ediary.diary.values import numeric
from ediary.gradingrules.years import YearRuleSet, rules_for_term, rules_for_year
from ediary.schools.models import ImprovementPolicy, Pupil, School, SchoolYear
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.queries import roster_statement


def attendance_types(school_id: int) -> dict[str, AttendanceType]:
    """The school's attendance types by code, in its tap order."""
    types = db.session.scalars(_attendance_types_query(), {"school_id": school_id})
    return {t.code: t for t in types}


@functools.cache
def _attendance_types_query() -> Select[AttendanceType]:
    """Built once and run with the school as a parameter: every roll reads it."""
    return (
        select(AttendanceType)
        .where(AttendanceType.school_id == bindparam("school_id"))
        .order_by(AttendanceType.position, AttendanceType.id)
    )


def roster_with_attendance(lesson: Lesson) -> Sequence[tuple[int, Attendance | None]]:
    """The ids of the lesson's roster (`timetable.queries.roster`, in its order), each with the
    pupil's attendance at the lesson, in one statement: a roll reads both, and they were two
    statements of its thirteen. Ids, not the pupils: a roll needs no more of them (loading 25
    pupils as objects was 730 of a roll's 20,600 Python calls, cProfile of `bench.roll_cost`).
    Fresh from the database, not the session's copies: a roll compares with what the server has
    now (a caller may have read these rows before another writer committed)."""
    statement, params = roster_statement(lesson)
    return db.session.execute(_with_attendance(statement), params).all()  # rows: tuples


@functools.cache
def _with_attendance(roster: Select[Any]) -> Select[int, Attendance]:
    """Built once per shape of the roster's statement (itself built once per shape)."""
    return (
        roster.with_only_columns(Pupil.id, Attendance)
        .outerjoin(
            Attendance,
            (Attendance.pupil_id == Pupil.id) & (Attendance.lesson_id == bindparam("lesson_id")),
        )
        .execution_options(populate_existing=True)
    )


def default_type(types: Iterable[AttendanceType]) -> AttendanceType | None:
    """What a pupil with nothing recorded is shown as and given by a roll: the first type in the
    school's tap order that counts as present and is no excuse (the seven Polish states start
    with "ob"; a school may call it otherwise). The kiosk's roster names it as `default_code`."""
    return next((t for t in types if t.counts_as is Presence.PRESENT and not t.excused), None)


@dataclass(frozen=True)
class AverageTerm:
    grade_id: int
    value: str
    worth: Decimal
    weight: int


@dataclass(frozen=True)
class Average:
    """A weighted average with the terms it was computed from (parents see how)."""

    value: Decimal | None
    terms: tuple[AverageTerm, ...] = ()

    @property
    def weights(self) -> int:
        return sum(t.weight for t in self.terms)


def weighted_average(grades: Iterable[Grade], rules: School | YearRuleSet) -> Average:
    """Σ(worth × weight) / Σ weight over ongoing numeric grades in categories that count.

    Removed grades, marks (np, bz, +, -), descriptive grades, final grades and categories that do
    not count (or weigh 0) are left out. An improvement and its original count as the statute's
    improvement policy says: both, only the latest, or only the better of the two.

    The rules are those of the school year the grades belong to (ediary/gradingrules/years.py):
    pass `rules_for_year(year)` (loaded once for many averages); given the `School`, the rules
    of the first grade's term's year are looked up.
    """
    grades = list(grades)
    if isinstance(rules, School):
        if not grades:
            return Average(None)
        rules = rules_for_term(grades[0].term_id)
    candidates: list[tuple[Grade, Decimal, int]] = []
    for grade in grades:
        if grade.removed or grade.kind is not GradeKind.ONGOING:
            continue
        category = grade.category
        weight, counts = rules.category(category) if category is not None else (1, True)
        if not counts:
            continue
        worth = numeric(grade.value, rules.plus_value, rules.minus_value)
        if worth is None or weight <= 0:
            continue
        candidates.append((grade, worth, weight))
    counted = _apply_improvement_policy(candidates, rules.improvement_policy)
    if not counted:
        return Average(None)
    terms = tuple(AverageTerm(g.id, g.value or "", worth, w) for g, worth, w in counted)
    total = sum((t.worth * t.weight for t in terms), Decimal(0))
    value = (total / sum(t.weight for t in terms)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Average(value, terms)


def _apply_improvement_policy(
    candidates: list[tuple[Grade, Decimal, int]], policy: ImprovementPolicy
) -> list[tuple[Grade, Decimal, int]]:
    if policy is ImprovementPolicy.BOTH:
        return candidates
    by_id = {g.id: (g, worth, w) for g, worth, w in candidates}

    def root(grade: Grade) -> int:
        seen = set()
        while grade.improves_id in by_id and grade.id not in seen:
            seen.add(grade.id)
            grade = by_id[grade.improves_id][0]
        return grade.id

    chains: dict[int, list[tuple[Grade, Decimal, int]]] = defaultdict(list)
    for item in candidates:
        chains[root(item[0])].append(item)
    kept = []
    for chain in chains.values():
        if policy is ImprovementPolicy.LATEST:
            kept.append(max(chain, key=lambda item: (item[0].given_on, item[0].id)))
        else:
            kept.append(max(chain, key=lambda item: (item[1], item[0].id)))
    return sorted(kept, key=lambda item: item[0].id)


def grades_of(pupil: Pupil, term_id: int | None = None) -> Sequence[Grade]:
    query = select(Grade).where(Grade.pupil_id == pupil.id).order_by(Grade.given_on, Grade.id)
    if term_id is not None:
        query = query.where(Grade.term_id == term_id)
    return db.session.scalars(query).all()


@dataclass
class AttendanceSummary:
    present: int = 0
    absent: int = 0
    by_code: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.present + self.absent

    @property
    def present_percent(self) -> Decimal | None:
        if self.total == 0:
            return None
        return (Decimal(100) * self.present / self.total).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def absent_percent(self) -> Decimal | None:
        present = self.present_percent
        return None if present is None else Decimal(100) - present

    def warns(self, threshold_percent: int) -> bool:
        absent = self.absent_percent
        return absent is not None and absent >= threshold_percent


def attendance_of_pupils(
    pupil_ids: Iterable[int], starts_on: dt.date, ends_on: dt.date, *where: Any
) -> dict[int, AttendanceSummary]:
    """Per pupil: lessons attended and missed between two dates (cancelled ones left out),
    counted as each attendance type counts; `where` narrows the lessons (a class, a subject)."""
    query = (
        select(Attendance.pupil_id, AttendanceType.counts_as, func.count())
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(AttendanceType, AttendanceType.id == Attendance.type_id)
        .where(
            Attendance.pupil_id.in_(list(pupil_ids)),
            Lesson.status != LessonStatus.CANCELLED,
            Lesson.date >= starts_on,
            Lesson.date <= ends_on,
            *where,
        )
        .group_by(Attendance.pupil_id, AttendanceType.counts_as)
    )
    found: dict[int, AttendanceSummary] = defaultdict(AttendanceSummary)
    for pupil_id, counts_as, count in db.session.execute(query):
        if counts_as == Presence.PRESENT:
            found[pupil_id].present += count
        else:
            found[pupil_id].absent += count
    return found


def attendance_by_subject(
    pupil: Pupil, since: dt.date | None = None, until: dt.date | None = None
) -> dict[int, AttendanceSummary]:
    """Per subject id: lessons attended and missed (recorded lessons that were not cancelled);
    each attendance type counts as the statute of the lesson's school year says."""
    in_year = and_(
        SchoolYear.school_id == Lesson.school_id,
        SchoolYear.starts_on <= Lesson.date,
        SchoolYear.ends_on >= Lesson.date,
    )
    query = (
        select(
            Lesson.subject_id,
            SchoolYear.id,
            Attendance.type_id,
            AttendanceType.code,
            AttendanceType.counts_as,
            func.count(),
        )
        .join(Attendance, Attendance.lesson_id == Lesson.id)
        .join(AttendanceType, AttendanceType.id == Attendance.type_id)
        .outerjoin(SchoolYear, in_year)
        .where(Attendance.pupil_id == pupil.id, Lesson.status != LessonStatus.CANCELLED)
        .group_by(
            Lesson.subject_id,
            SchoolYear.id,
            Attendance.type_id,
            AttendanceType.code,
            AttendanceType.counts_as,
        )
    )
    if since is not None:
        query = query.where(Lesson.date >= since)
    if until is not None:
        query = query.where(Lesson.date <= until)
    rules: dict[int, YearRuleSet] = {}
    summaries: dict[int, AttendanceSummary] = defaultdict(AttendanceSummary)
    for subject_id, year_id, type_id, code, counts_as, count in db.session.execute(query):
        if year_id is not None:
            if year_id not in rules:
                rules[year_id] = rules_for_year(year_id)
            counts_as = rules[year_id].counts_as(type_id, counts_as)
        summary = summaries[subject_id]
        summary.by_code[code] = summary.by_code.get(code, 0) + count
        if counts_as == Presence.PRESENT:
            summary.present += count
        else:
            summary.absent += count
    return dict(summaries)
