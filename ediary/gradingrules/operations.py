"""Changing the grading rules of a school year: the computation rule changes, no grade or
attendance row does, and no other year's rules move (models.py says why)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.diary.models import AttendanceType, GradeCategory
from ediary.errors import Conflict, Refusal
from ediary.gradingrules.models import YearRules
from ediary.gradingrules.rules import Rules
from ediary.gradingrules.years import (
    YearRuleSet,
    as_row_values,
    rules_for_year,
    school_rule_set,
    year_in_force,
    year_row,
)
from ediary.schools.models import School, SchoolYear


def refuse_closed(year: SchoolYear) -> None:
    if year.closed_at is not None:
        raise Refusal(
            "year_closed",
            _l(
                "Rok szkolny %(name)s jest zamknięty: jego zasady oceniania można tylko obejrzeć.",
                name=year.name,
            ),
        )


@operation
def change_grading_rules(
    actor: Actor,
    school: School,
    rules: Rules,
    categories: Sequence[GradeCategory],
    types: Sequence[AttendanceType],
    *,
    base_version: int,
    year: SchoolYear,
    today: dt.date,
) -> YearRules:
    """Writes the statute's rules of one year; a page that showed an older version conflicts.

    The year's row is written (each change a history row by `@operation`). When the year is the
    one in force today, the school's own columns (which kiosks, rolls and today's figures read)
    follow it; before they move, every other year of the school gets a row of its own, so its
    averages stay as they were. Grades and attendance rows are never touched.
    """
    if year.school_id != school.id:
        raise Refusal("year_foreign", _l("Nie ma takiego roku szkolnego."))
    refuse_closed(year)
    row = year_row(year.id, for_update=True)
    current = row.version if row is not None else 0
    if current != base_version:
        raise Conflict(
            "stale_rules",
            _l("Zasady oceniania zmieniły się od wczytania strony. Sprawdź je i zapisz ponownie."),
            current_version=current,
        )
    in_force = (found := year_in_force(school.id, today)) is not None and found.id == year.id
    if in_force:
        give_every_year_its_row(school, except_year=year.id)
    if row is None:
        row = _row(school, year.id, school_rule_set(school, year.id), version=0)
        db.session.flush()  # created as it was, then changed: the history shows from → to
    proposed = rule_set(rules_for_year(year), rules)
    for key, value in as_row_values(proposed).items():
        if getattr(row, key) != value:
            setattr(row, key, value)
    row.version = current + 1
    if in_force:
        _write_school_columns(school, rules, categories, types)
    db.session.flush()
    return row


def give_every_year_its_row(school: School, except_year: int | None = None) -> None:
    """Years still following the school's columns get those as their own row."""
    rowless = db.session.scalars(
        select(SchoolYear).where(
            SchoolYear.school_id == school.id,
            SchoolYear.id.not_in(select(YearRules.year_id)),
        )
    ).all()
    if not rowless:
        return
    base = school_rule_set(school)
    for found in rowless:
        if found.id != except_year:
            _row(school, found.id, base, version=1)


def copy_rules(school: School, old_year: SchoolYear, new_year: SchoolYear) -> YearRules | None:
    """The rollover: the new year starts with the old year's rules (once; a rerun keeps them)."""
    if year_row(new_year.id) is not None:
        return None
    return _row(school, new_year.id, rules_for_year(old_year), version=1)


def _row(school: School, year_id: int, rules: YearRuleSet, *, version: int) -> YearRules:
    row = YearRules(school_id=school.id, year_id=year_id, version=version, **as_row_values(rules))
    db.session.add(row)
    return row


def rule_set(base: YearRuleSet, rules: Rules) -> YearRuleSet:
    """`base` with what the page sent over it."""
    weights = dict(base.weights)
    for category in rules.categories:
        if category.id in weights:
            weights[category.id] = (category.weight, category.counts_to_average)
    presence = dict(base.presence)
    for kind in rules.types:
        if kind.id in presence:
            presence[kind.id] = (kind.counts_as, kind.excused)
    return YearRuleSet(
        school_id=base.school_id,
        year_id=base.year_id,
        plus_value=rules.plus_value,
        minus_value=rules.minus_value,
        improvement_policy=rules.improvement_policy,
        non_classification_percent=rules.non_classification_percent,
        weights=weights,
        presence=presence,
        version=base.version,
    )


def _write_school_columns(
    school: School,
    rules: Rules,
    categories: Sequence[GradeCategory],
    types: Sequence[AttendanceType],
) -> None:
    for key in ("plus_value", "minus_value", "improvement_policy", "non_classification_percent"):
        if getattr(school, key) != getattr(rules, key):
            setattr(school, key, getattr(rules, key))
    for category in categories:
        rule = rules.category(category.id)
        if rule is not None and (category.weight, category.counts_to_average) != (
            rule.weight,
            rule.counts_to_average,
        ):
            category.weight, category.counts_to_average = rule.weight, rule.counts_to_average
    by_id = {t.id: t for t in rules.types}
    for kind in types:
        type_rule = by_id.get(kind.id)
        if type_rule is not None and (kind.counts_as, kind.excused) != (
            type_rule.counts_as,
            type_rule.excused,
        ):
            kind.counts_as, kind.excused = type_rule.counts_as, type_rule.excused
