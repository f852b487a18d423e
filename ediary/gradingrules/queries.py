"""The history of a school's grading rules, newest first (written by `@operation`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from ediary.audit.models import HistoryEntry
from ediary.db import db
from ediary.diary.models import AttendanceType, GradeCategory
from ediary.people.models import User
from ediary.schools.models import School

RULE_FIELDS = frozenset(
    {"plus_value", "minus_value", "improvement_policy", "non_classification_percent"}
)
# How the history names a changed field (Polish first).
FIELD_NAMES = {
    "weight": _l("waga"),
    "counts_to_average": _l("liczy się do średniej"),
    "counts_as": _l("liczy się jako"),
    "excused": _l("usprawiedliwiony"),
    "plus_value": _l("wartość plusa"),
    "minus_value": _l("wartość minusa"),
    "improvement_policy": _l("poprawa oceny"),
    "non_classification_percent": _l("próg frekwencji"),
}


@dataclass(frozen=True)
class RuleChange:
    at: dt.datetime
    who: str
    what: str  # the category's or type's name, or "" for the school's own settings
    old: dict[str, Any]
    new: dict[str, Any]


def rules_history(school: School, limit: int = 30) -> list[RuleChange]:
    categories = {
        c.id: c.name
        for c in db.session.scalars(
            select(GradeCategory).where(GradeCategory.school_id == school.id)
        )
    }
    types = {
        t.id: f"{t.code} · {t.name}"
        for t in db.session.scalars(
            select(AttendanceType).where(AttendanceType.school_id == school.id)
        )
    }
    rows = db.session.execute(
        select(HistoryEntry, User)
        .outerjoin(User, User.id == HistoryEntry.actor_id)
        .where(
            HistoryEntry.action == "update",
            or_(
                and_(HistoryEntry.entity == "schools", HistoryEntry.entity_id == school.id),
                and_(
                    HistoryEntry.entity == "grade_categories",
                    HistoryEntry.entity_id.in_(list(categories) or [0]),
                ),
                and_(
                    HistoryEntry.entity == "attendance_types",
                    HistoryEntry.entity_id.in_(list(types) or [0]),
                ),
            ),
        )
        .order_by(HistoryEntry.id.desc())
        .limit(limit)
    ).all()
    changes = []
    for entry, user in rows:
        old, new = dict(entry.old or {}), dict(entry.new or {})
        if entry.entity == "schools":
            old = {k: v for k, v in old.items() if k in RULE_FIELDS}
            new = {k: v for k, v in new.items() if k in RULE_FIELDS}
            if not new:
                continue
            what = ""
        elif entry.entity == "grade_categories":
            what = categories.get(entry.entity_id or 0, "")
        else:
            what = types.get(entry.entity_id or 0, "")
        who = user.full_name if user is not None else "—"
        changes.append(RuleChange(entry.at, who, what, old, new))
    return changes
