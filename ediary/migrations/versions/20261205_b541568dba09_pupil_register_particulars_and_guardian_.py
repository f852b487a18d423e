"""pupil register particulars and guardian relation

Revision ID: b541568dba09
Revises: 5c2093e5ba7d
Create Date: 2026-12-05 21:17:17.102657+00:00

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b541568dba09"
down_revision: str | Sequence[str] | None = "5c2093e5ba7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "relation",
                sa.Enum(
                    "mother",
                    "father",
                    "legal_guardian",
                    "other",
                    name="guardianrelation",
                    native_enum=False,
                    length=24,
                ),
                nullable=True,
            )
        )

    with op.batch_alter_table("pupils", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pesel", sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("birth_place", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("identity_document", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column("admitted_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("left_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("leave_reason", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_pupils_school_id_pesel"), ["school_id", "pesel"]
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=250), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("address")

    with op.batch_alter_table("pupils", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_pupils_school_id_pesel"), type_="unique")
        batch_op.drop_column("leave_reason")
        batch_op.drop_column("left_on")
        batch_op.drop_column("admitted_on")
        batch_op.drop_column("address")
        batch_op.drop_column("identity_document")
        batch_op.drop_column("birth_place")
        batch_op.drop_column("birth_date")
        batch_op.drop_column("pesel")

    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.drop_column("relation")
