"""Which averages a proposed change of the rules would move, before it is saved.

Both sides are computed by the gradebook's own `weighted_average`: the current rules on the
stored rows, the proposed ones on plain stand-ins for the school and the categories (nothing is
written, not even inside a transaction to roll back). Aggregates only: class, subject, count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select

from ediary.db import db
from ediary.diary.models import Grade, GradeKind
from ediary.diary.queries import weighted_average
from ediary.gradingrules.rules import Rules
from ediary.schools.models import Pupil, School, SchoolClass, Subject, Term
from ediary.schools.queries import year_of


@dataclass(frozen=True)
class Moved:
    class_name: str
    subject_name: str
    averages: int  # how many pupil × subject × term averages change
    examples: tuple[str, ...]  # "4,25 → 4,50", no names


@dataclass(frozen=True)
class Preview:
    checked: int
    moved: tuple[Moved, ...]

    @property
    def total(self) -> int:
        return sum(m.averages for m in self.moved)


@dataclass(frozen=True)
class _School:
    plus_value: Any
    minus_value: Any
    improvement_policy: Any


@dataclass(frozen=True)
class _Category:
    weight: int
    counts_to_average: bool


@dataclass(frozen=True)
class _Grade:
    id: int
    value: str | None
    kind: GradeKind
    removed: bool
    category: _Category | None
    improves_id: int | None
    given_on: dt.date


def _proposed(grade: Grade, rules: Rules) -> _Grade:
    category: _Category | None = None
    if grade.category is not None:
        rule = rules.category(grade.category.id)
        category = (
            _Category(rule.weight, rule.counts_to_average)
            if rule is not None
            else _Category(grade.category.weight, grade.category.counts_to_average)
        )
    return _Grade(
        grade.id,
        grade.value,
        grade.kind,
        grade.removed,
        category,
        grade.improves_id,
        grade.given_on,
    )


def averages_moved(school: School, rules: Rules, today: dt.date) -> Preview:
    """Per class and subject, how many averages of this school year the rules would change."""
    year = year_of(school.id, today)
    if year is None:
        return Preview(0, ())
    rows = db.session.execute(
        select(Grade, SchoolClass.name, Subject.name)
        .join(Term, Term.id == Grade.term_id)
        .join(Pupil, Pupil.id == Grade.pupil_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .join(Subject, Subject.id == Grade.subject_id)
        .where(
            Grade.school_id == school.id,
            Term.year_id == year.id,
            Grade.kind == GradeKind.ONGOING,
            Grade.removed.is_(False),
        )
        .order_by(Grade.id)
    ).all()
    groups: dict[tuple[str, str, int, int], list[Grade]] = defaultdict(list)
    for grade, class_name, subject_name in rows:
        groups[(class_name, subject_name, grade.pupil_id, grade.term_id)].append(grade)
    proposed_school = cast(
        School, _School(rules.plus_value, rules.minus_value, rules.improvement_policy)
    )
    moved: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (class_name, subject_name, _pupil, _term), grades in groups.items():
        before = weighted_average(grades, school).value
        after = weighted_average(
            cast(list[Grade], [_proposed(g, rules) for g in grades]), proposed_school
        ).value
        if before != after:
            moved[(class_name, subject_name)].append(f"{_shown(before)} → {_shown(after)}")
    return Preview(
        checked=len(groups),
        moved=tuple(
            Moved(c, s, len(changes), tuple(changes[:3]))
            for (c, s), changes in sorted(moved.items())
        ),
    )


def _shown(value: object) -> str:
    return "—" if value is None else str(value).replace(".", ",")
