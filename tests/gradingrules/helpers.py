"""The rules form as the page gives it, for tests of the operation, the preview and the page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.models import Grade, GradeCategory
from ediary.diary.operations import record_grade
from ediary.diary.queries import attendance_types
from ediary.gradingrules.years import rules_for_year
from ediary.people.queries import today
from ediary.schools.models import School, SchoolYear
from ediary.schools.queries import year_of
from tests.factories import World


def year_in_force(school: School) -> SchoolYear:
    year = year_of(school.id, today())
    assert year is not None
    return year


def rules_version(school: School, year: SchoolYear | None = None) -> int:
    return rules_for_year(year or year_in_force(school)).version


def rules_form(school: School, **changes: str) -> dict[str, str]:
    """Every field of the page with the current rules of the year in force, then `changes`."""
    return year_rules_form(school, year_in_force(school), **changes)


def year_rules_form(school: School, year: SchoolYear, **changes: str) -> dict[str, str]:
    """Every field of the page with the year's current rules, then `changes` over them."""
    rules = rules_for_year(year)
    form = {
        "year": str(year.id),
        "version": str(rules.version),
        "plus_value": str(rules.plus_value),
        "minus_value": str(rules.minus_value),
        "improvement_policy": str(rules.improvement_policy),
        "non_classification_percent": str(rules.non_classification_percent),
    }
    for category in categories(school):
        weight, counts = rules.category(category)
        form[f"weight-{category.id}"] = str(weight)
        if counts:
            form[f"counts-{category.id}"] = "on"
    for kind in attendance_types(school.id).values():
        form[f"counts-as-{kind.id}"] = str(rules.counts_as(kind.id))
        if rules.excused(kind.id):
            form[f"excused-{kind.id}"] = "on"
    form.update(changes)
    return {k: v for k, v in form.items() if v != "off"}


def categories(school: School) -> list[GradeCategory]:
    query = select(GradeCategory).where(GradeCategory.school_id == school.id)
    return list(db.session.scalars(query.order_by(GradeCategory.id)))


def grade(world: World, value: str, category: GradeCategory) -> Grade:
    return record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=world.pupil,
        subject=world.math,
        value=value,
        category=category,
        given_on=world.today - dt.timedelta(days=1),
    )


def grade_rows() -> list[tuple[object, ...]]:
    """Every grade row as stored (id, value, category, version): to show none changed."""
    rows = db.session.execute(
        select(Grade.id, Grade.value, Grade.category_id, Grade.version).order_by(Grade.id)
    )
    return [tuple(r) for r in rows]
