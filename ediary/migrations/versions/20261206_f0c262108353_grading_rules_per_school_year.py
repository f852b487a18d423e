"""grading rules per school year

Revision ID: f0c262108353
Revises: c3f1a7d2e914
Create Date: 2026-12-06 00:37:11.838868+00:00

Each existing school year gets a row holding the rules its school has today (the +/- values,
improvement policy, non-classification threshold and version from `schools`, the weights from
`grade_categories`, the counting from `attendance_types`), so every year keeps computing as it
did; then `schools.rules_version` goes (the version is per year now).

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f0c262108353"
down_revision: str | Sequence[str] | None = "c3f1a7d2e914"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "year_grading_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("year_id", sa.Integer(), nullable=False),
        sa.Column("plus_value", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("minus_value", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column(
            "improvement_policy",
            sa.Enum(
                "both", "latest", "better", name="improvementpolicy", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("non_classification_percent", sa.Integer(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("attendance", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_year_grading_rules_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["year_id"],
            ["school_years.id"],
            name=op.f("fk_year_grading_rules_year_id_school_years"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_grading_rules")),
        sa.UniqueConstraint("year_id", name=op.f("uq_year_grading_rules_year_id")),
    )
    with op.batch_alter_table("year_grading_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_year_grading_rules_school_id"), ["school_id"], unique=False
        )

    _copy_school_rules_into_every_year()
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("rules_version")


def _copy_school_rules_into_every_year() -> None:
    bind = op.get_bind()
    schools = sa.table(
        "schools",
        sa.column("id", sa.Integer),
        sa.column("plus_value", sa.Numeric(4, 2)),
        sa.column("minus_value", sa.Numeric(4, 2)),
        sa.column("improvement_policy", sa.String),
        sa.column("non_classification_percent", sa.Integer),
        sa.column("rules_version", sa.Integer),
    )
    years = sa.table(
        "school_years", sa.column("id", sa.Integer), sa.column("school_id", sa.Integer)
    )
    categories = sa.table(
        "grade_categories",
        sa.column("id", sa.Integer),
        sa.column("school_id", sa.Integer),
        sa.column("weight", sa.Integer),
        sa.column("counts_to_average", sa.Boolean),
    )
    types = sa.table(
        "attendance_types",
        sa.column("id", sa.Integer),
        sa.column("school_id", sa.Integer),
        sa.column("counts_as", sa.String),
        sa.column("excused", sa.Boolean),
    )
    rules = sa.table(
        "year_grading_rules",
        sa.column("school_id", sa.Integer),
        sa.column("year_id", sa.Integer),
        sa.column("plus_value", sa.Numeric(4, 2)),
        sa.column("minus_value", sa.Numeric(4, 2)),
        sa.column("improvement_policy", sa.String),
        sa.column("non_classification_percent", sa.Integer),
        sa.column("categories", sa.JSON),
        sa.column("attendance", sa.JSON),
        sa.column("version", sa.Integer),
    )
    weights: dict[int, dict[str, object]] = {}
    for row in bind.execute(sa.select(categories).order_by(categories.c.id)):
        weights.setdefault(row.school_id, {})[str(row.id)] = {
            "weight": row.weight,
            "counts": bool(row.counts_to_average),
        }
    counting: dict[int, dict[str, object]] = {}
    for row in bind.execute(sa.select(types).order_by(types.c.id)):
        counting.setdefault(row.school_id, {})[str(row.id)] = {
            "counts_as": row.counts_as,
            "excused": bool(row.excused),
        }
    by_school = {row.id: row for row in bind.execute(sa.select(schools))}
    values = [
        {
            "school_id": year.school_id,
            "year_id": year.id,
            "plus_value": by_school[year.school_id].plus_value,
            "minus_value": by_school[year.school_id].minus_value,
            "improvement_policy": by_school[year.school_id].improvement_policy,
            "non_classification_percent": by_school[year.school_id].non_classification_percent,
            "categories": weights.get(year.school_id, {}),
            "attendance": counting.get(year.school_id, {}),
            "version": by_school[year.school_id].rules_version,
        }
        for year in bind.execute(sa.select(years).order_by(years.c.id))
    ]
    if values:
        op.bulk_insert(rules, values)


def downgrade() -> None:
    # The per-year rules are lost: the school's columns (the rules in force today) stay.
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rules_version", sa.Integer(), server_default="1", nullable=False)
        )

    with op.batch_alter_table("year_grading_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_year_grading_rules_school_id"))

    op.drop_table("year_grading_rules")
