"""Which averages a proposed change of the rules would move, before it is saved.

Both sides are computed by the gradebook's own `weighted_average` on the stored grades of the
chosen school year: with the year's rules, and with the proposed ones (a plain `YearRuleSet`;
nothing is written). Aggregates only: class, subject, count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from ediary.db import db
from ediary.diary.models import Grade, GradeKind
from ediary.diary.queries import weighted_average
from ediary.gradingrules.operations import rule_set
from ediary.gradingrules.rules import Rules
from ediary.gradingrules.years import rules_for_year
from ediary.schools.models import Pupil, School, SchoolClass, SchoolYear, Subject, Term


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


def averages_moved(school: School, year: SchoolYear, rules: Rules) -> Preview:
    """Per class and subject, how many averages of this school year the rules would change."""
    current = rules_for_year(year)
    proposed = rule_set(current, rules)
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
    moved: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (class_name, subject_name, _pupil, _term), grades in groups.items():
        before = weighted_average(grades, current).value
        after = weighted_average(grades, proposed).value
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
