"""Changing the grading rules: the computation rule changes, no grade or attendance row does."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.diary.models import AttendanceType, GradeCategory
from ediary.errors import Conflict
from ediary.gradingrules.rules import Rules
from ediary.schools.models import School


@operation
def change_grading_rules(
    actor: Actor,
    school: School,
    rules: Rules,
    categories: Sequence[GradeCategory],
    types: Sequence[AttendanceType],
    *,
    base_version: int,
) -> School:
    """Writes the statute's rules; a page that showed an older version gets a Conflict.

    Only the school's settings, categories and attendance types change (each a history row by
    `@operation`); grades keep their values and averages are computed with the new rule.
    """
    if school.rules_version != base_version:
        raise Conflict(
            "stale_rules",
            _l("Zasady oceniania zmieniły się od wczytania strony. Sprawdź je i zapisz ponownie."),
            current_version=school.rules_version,
        )
    school.plus_value = rules.plus_value
    school.minus_value = rules.minus_value
    school.improvement_policy = rules.improvement_policy
    school.non_classification_percent = rules.non_classification_percent
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
    school.rules_version += 1
    db.session.flush()
    return school
