"""The per-year grading rules migration gives every existing school year a row with the rules
its school had (so every year keeps computing as it did), on both backends."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import sqlalchemy as sa

from ediary import migrations
from ediary.db import make_engine

REVISION = "f0c262108353"  # ediary/migrations/versions/20261206_f0c262108353_grading_rules_...


def test_every_existing_year_gets_its_school_s_rules(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(backend)
    migrations.upgrade(url, f"{REVISION}-1")
    engine = make_engine(url)
    statements = [
        "INSERT INTO districts (id, name) VALUES (1, 'Gmina')",
        "INSERT INTO schools (id, district_id, name, short_name, timezone, plus_value, minus_value,"
        " improvement_policy, absence_warning_percent, non_classification_percent, rules_version)"
        " VALUES (1, 1, 'SP 1', 'SP1', 'Europe/Warsaw', 0.75, 0.5, 'better', 30, 60, 4)",
        "INSERT INTO school_years (id, school_id, name, starts_on, ends_on) VALUES"
        " (1, 1, '2025/2026', '2025-09-01', '2026-06-26'),"
        " (2, 1, '2026/2027', '2026-09-01', '2027-06-25')",
        "INSERT INTO grade_categories (id, school_id, name, weight, counts_to_average) VALUES"
        " (7, 1, 'sprawdzian', 3, true), (8, 1, 'inne', 0, false)",
        "INSERT INTO attendance_types (id, school_id, code, name, counts_as, excused, position)"
        " VALUES (5, 1, 'sp', 'spóźnienie', 'present', false, 0)",
    ]
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
        migrations.upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT year_id, plus_value, minus_value, improvement_policy,"
                    " non_classification_percent, categories, attendance, version"
                    " FROM year_grading_rules ORDER BY year_id"
                )
            ).all()
            columns = [c["name"] for c in sa.inspect(conn).get_columns("schools")]
    finally:
        engine.dispose()
    assert [r[0] for r in rows] == [1, 2]
    for row in rows:
        categories, attendance = row[5], row[6]
        if isinstance(categories, str):  # SQLite hands JSON back as text to a plain query
            categories, attendance = json.loads(categories), json.loads(attendance)
        assert Decimal(str(row[1])) == Decimal("0.75") and Decimal(str(row[2])) == Decimal("0.5")
        assert (row[3], row[4], row[7]) == ("better", 60, 4)
        assert categories == {
            "7": {"weight": 3, "counts": True},
            "8": {"weight": 0, "counts": False},
        }
        assert attendance == {"5": {"counts_as": "present", "excused": False}}
    assert "rules_version" not in columns
