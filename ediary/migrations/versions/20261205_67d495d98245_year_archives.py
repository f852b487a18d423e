"""year archives

Revision ID: 67d495d98245
Revises: b541568dba09
Create Date: 2026-12-05 21:48:06.775318+00:00

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "67d495d98245"
down_revision: str | Sequence[str] | None = "b541568dba09"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "year_archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("year_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signer", sa.String(length=300), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_year_archives_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["year_id"], ["school_years.id"], name=op.f("fk_year_archives_year_id_school_years")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_archives")),
    )
    with op.batch_alter_table("year_archives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_year_archives_school_id"), ["school_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("year_archives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_year_archives_school_id"))

    op.drop_table("year_archives")
