"""The rules a computation uses: those of the school year its grades or lessons belong to.

`rules_for_year(year)` (or `rules_for_term(term_id)`) gives a `YearRuleSet`, a plain snapshot:
the year's own row (models.py) over the school's columns, with an entry for every category and
attendance type of the school. `weighted_average(grades, rules)` (ediary/diary/queries.py) takes
it; given a `School` instead it looks up the rules of the grades' year itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from ediary.db import db
from ediary.diary.models import AttendanceType, GradeCategory, Presence
from ediary.gradingrules.models import YearRules
from ediary.schools.models import ImprovementPolicy, School, SchoolYear, Term


@dataclass(frozen=True)
class YearRuleSet:
    school_id: int
    year_id: int | None
    plus_value: Decimal
    minus_value: Decimal
    improvement_policy: ImprovementPolicy
    non_classification_percent: int
    weights: Mapping[int, tuple[int, bool]]  # category id → (weight, counts to the average)
    presence: Mapping[int, tuple[Presence, bool]]  # attendance type id → (counts as, excused)
    version: int  # of the year's row; 0 while the year follows the school's columns

    def category(self, category: GradeCategory) -> tuple[int, bool]:
        found = self.weights.get(category.id)
        return found if found is not None else (category.weight, category.counts_to_average)

    def counts_as(self, type_id: int, fallback: Presence = Presence.PRESENT) -> Presence:
        found = self.presence.get(type_id)
        return found[0] if found is not None else fallback

    def excused(self, type_id: int) -> bool:
        found = self.presence.get(type_id)
        return found[1] if found is not None else False


def year_row(year_id: int, *, for_update: bool = False) -> YearRules | None:
    query = select(YearRules).where(YearRules.year_id == year_id)
    return db.session.scalar(query.with_for_update() if for_update else query)


def school_rule_set(school: School, year_id: int | None = None) -> YearRuleSet:
    """The rules as the school's columns hold them (a year without a row of its own)."""
    categories = db.session.scalars(
        select(GradeCategory).where(GradeCategory.school_id == school.id)
    )
    types = db.session.scalars(select(AttendanceType).where(AttendanceType.school_id == school.id))
    return YearRuleSet(
        school_id=school.id,
        year_id=year_id,
        plus_value=school.plus_value,
        minus_value=school.minus_value,
        improvement_policy=school.improvement_policy,
        non_classification_percent=school.non_classification_percent,
        weights={c.id: (c.weight, c.counts_to_average) for c in categories},
        presence={t.id: (t.counts_as, t.excused) for t in types},
        version=0,
    )


def rules_for_year(year: SchoolYear | int) -> YearRuleSet:
    """The rules of a school year: its own row over the school's columns."""
    found = year if isinstance(year, SchoolYear) else db.session.get(SchoolYear, year)
    if found is None:
        raise LookupError(f"no school year {year}")
    school = db.session.get(School, found.school_id)
    assert school is not None
    base = school_rule_set(school, found.id)
    row = year_row(found.id)
    if row is None:
        return base
    weights = dict(base.weights)
    for key, rule in (row.categories or {}).items():
        if int(key) in weights:
            weights[int(key)] = (int(rule["weight"]), bool(rule["counts"]))
    presence = dict(base.presence)
    for key, rule in (row.attendance or {}).items():
        if int(key) in presence:
            presence[int(key)] = (Presence(rule["counts_as"]), bool(rule["excused"]))
    return YearRuleSet(
        school_id=school.id,
        year_id=found.id,
        plus_value=row.plus_value,
        minus_value=row.minus_value,
        improvement_policy=row.improvement_policy,
        non_classification_percent=row.non_classification_percent,
        weights=weights,
        presence=presence,
        version=row.version,
    )


def rules_for_term(term_id: int) -> YearRuleSet:
    year_id = db.session.scalar(select(Term.year_id).where(Term.id == term_id))
    if year_id is None:
        raise LookupError(f"no term {term_id}")
    return rules_for_year(year_id)


def category_weight(term_id: int, category: GradeCategory) -> int:
    """A category's weight in the statute of a term's year, in one query (a grade's event)."""
    rules = db.session.scalar(
        select(YearRules.categories)
        .join(Term, Term.year_id == YearRules.year_id)
        .where(Term.id == term_id)
    )
    found = (rules or {}).get(str(category.id))
    return int(found["weight"]) if found is not None else category.weight


def year_in_force(school_id: int, day: dt.date) -> SchoolYear | None:
    """The year whose rules the school's columns hold on `day`: the year `day` falls in; between
    years (the summer) the coming one, which the rollover has created with the old year's rules
    and the next lesson belongs to; else the latest that started."""
    years = db.session.scalars(
        select(SchoolYear).where(SchoolYear.school_id == school_id).order_by(SchoolYear.starts_on)
    ).all()
    for year in years:
        if year.starts_on <= day <= year.ends_on:
            return year
    coming = [y for y in years if y.starts_on > day]
    started = [y for y in years if y.starts_on <= day]
    return coming[0] if coming else (started[-1] if started else None)


def as_row_values(rules: YearRuleSet) -> dict[str, object]:
    """A rule set as the columns of a `YearRules` row."""
    return {
        "plus_value": rules.plus_value,
        "minus_value": rules.minus_value,
        "improvement_policy": rules.improvement_policy,
        "non_classification_percent": rules.non_classification_percent,
        "categories": {
            str(k): {"weight": w, "counts": c} for k, (w, c) in sorted(rules.weights.items())
        },
        "attendance": {
            str(k): {"counts_as": p.value, "excused": e}
            for k, (p, e) in sorted(rules.presence.items())
        },
    }
