"""The history of a school year's grading rules, newest first (written by `@operation` on the
year's `YearRules` row: one history entry per save, split here per category and type)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.db import db
from ediary.diary.models import AttendanceType, GradeCategory
from ediary.gradingrules.years import year_row
from ediary.people.models import User
from ediary.schools.models import School, SchoolYear

RULE_FIELDS = ("plus_value", "minus_value", "improvement_policy", "non_classification_percent")
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
_JSON_NAMES = {"counts": "counts_to_average"}


@dataclass(frozen=True)
class RuleChange:
    at: dt.datetime
    who: str
    what: str  # the category's or type's name, or "" for the year's own settings
    old: dict[str, Any]
    new: dict[str, Any]


def rules_history(school: School, year: SchoolYear, limit: int = 30) -> list[RuleChange]:
    row = year_row(year.id)
    if row is None:
        return []
    names = {
        ("categories", str(c.id)): c.name
        for c in db.session.scalars(
            select(GradeCategory).where(GradeCategory.school_id == school.id)
        )
    } | {
        ("attendance", str(t.id)): f"{t.code} · {t.name}"
        for t in db.session.scalars(
            select(AttendanceType).where(AttendanceType.school_id == school.id)
        )
    }
    rows = db.session.execute(
        select(HistoryEntry, User)
        .outerjoin(User, User.id == HistoryEntry.actor_id)
        .where(
            HistoryEntry.action == "update",
            HistoryEntry.entity == "year_grading_rules",
            HistoryEntry.entity_id == row.id,
        )
        .order_by(HistoryEntry.id.desc())
        .limit(limit)
    ).all()
    changes = []
    for entry, user in rows:
        old, new = dict(entry.old or {}), dict(entry.new or {})
        who = user.full_name if user is not None else "—"
        settings_new = {k: new[k] for k in RULE_FIELDS if k in new}
        if settings_new:
            settings_old = {k: old[k] for k in RULE_FIELDS if k in old}
            changes.append(RuleChange(entry.at, who, "", settings_old, settings_new))
        for part in ("categories", "attendance"):
            before, after = old.get(part) or {}, new.get(part) or {}
            for key in sorted(after, key=lambda k: int(k) if k.isdigit() else 0):
                was, now = before.get(key) or {}, after.get(key) or {}
                moved = {_JSON_NAMES.get(k, k): v for k, v in now.items() if was.get(k) != v}
                if moved:
                    kept = {_JSON_NAMES.get(k, k): v for k, v in was.items()}
                    changes.append(
                        RuleChange(entry.at, who, names.get((part, key), key), kept, moved)
                    )
    return changes
