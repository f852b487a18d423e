"""The grading rules of one school year (issue 14 item 5: "editable per school year").

Design, and why: one row per `SchoolYear` holds everything the statute's rules say for that
year: the scalars (+/- values, improvement policy, non-classification threshold, the version a
page edits from) and, as JSON keyed by id, the weight and "counts to the average" of every grade
category and what every attendance type counts as. The categories and types themselves stay
rows of the school (grades, assessments and attendance point at them, kiosks know them by id and
code); only their *rules* are per year. So a grade of last year is computed with last year's
row whatever this year's row says: a change never rewrites a past entry or a past average.

One row rather than a row per category is deliberate: a year's rules are read and written
together (one page, one version, one history entry saying old and new), and a year without a row
of its own (a year created before anyone changed its rules) simply follows the school's columns
(`School.plus_value`, `GradeCategory.weight`, `AttendanceType.counts_as`, ...), which are the
rules in force today; a save of any year first gives every other year of the school a row of
its own, so changing the columns afterwards never moves another year (operations.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base
from ediary.enums import enum_column
from ediary.schools.models import ImprovementPolicy


class YearRules(Audited, Base):
    __tablename__ = "year_grading_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("school_years.id"), unique=True)
    plus_value: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    minus_value: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    improvement_policy: Mapped[ImprovementPolicy] = mapped_column(enum_column(ImprovementPolicy))
    non_classification_percent: Mapped[int]
    # {"<category id>": {"weight": 3, "counts": true}, ...}
    categories: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {"<attendance type id>": {"counts_as": "absent", "excused": true}, ...}
    attendance: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Bumped by every save (the row read FOR UPDATE, so two saves at once go one after the
    # other); a page that showed an older version gets a conflict.
    version: Mapped[int] = mapped_column(default=1)

    __audit_ignored__ = frozenset({"version"})
