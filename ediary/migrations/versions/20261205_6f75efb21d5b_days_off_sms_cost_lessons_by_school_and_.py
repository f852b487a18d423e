"""days off, SMS cost, lessons by school and date

Revision ID: 6f75efb21d5b
Revises: d2d391bd97ce
Create Date: 2026-12-05 21:17:50.510539+00:00

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6f75efb21d5b"
down_revision: str | Sequence[str] | None = "d2d391bd97ce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "days_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_days_off_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_days_off")),
        sa.UniqueConstraint("school_id", "date", name=op.f("uq_days_off_school_id_date")),
    )
    with op.batch_alter_table("days_off", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_days_off_school_id"), ["school_id"], unique=False)

    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sms_cost_grosze", sa.Integer(), server_default="16", nullable=False)
        )

    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lessons_school_date_slot", ["school_id", "date", "slot_number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_index("ix_lessons_school_date_slot")

    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_column("sms_cost_grosze")

    with op.batch_alter_table("days_off", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_days_off_school_id"))

    op.drop_table("days_off")
