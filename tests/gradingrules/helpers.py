"""The rules form as the page gives it, for tests of the operation, the preview and the page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.models import Grade, GradeCategory
from ediary.diary.operations import record_grade
from ediary.diary.queries import attendance_types
from ediary.schools.models import School
from tests.factories import World


def rules_form(school: School, **changes: str) -> dict[str, str]:
    """Every field of the page with the school's current rules, then `changes` over them."""
    form = {
        "version": str(school.rules_version),
        "plus_value": str(school.plus_value),
        "minus_value": str(school.minus_value),
        "improvement_policy": str(school.improvement_policy),
        "non_classification_percent": str(school.non_classification_percent),
    }
    for category in categories(school):
        form[f"weight-{category.id}"] = str(category.weight)
        if category.counts_to_average:
            form[f"counts-{category.id}"] = "on"
    for kind in attendance_types(school.id).values():
        form[f"counts-as-{kind.id}"] = str(kind.counts_as)
        if kind.excused:
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
