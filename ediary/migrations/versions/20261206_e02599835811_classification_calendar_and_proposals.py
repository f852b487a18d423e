"""classification calendar and proposals

Revision ID: e02599835811
Revises: ebe60cce4bff
Create Date: 2026-12-06 00:40:00.000000+00:00

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e02599835811"
down_revision: str | Sequence[str] | None = "ebe60cce4bff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failing_proposal_days", sa.Integer(), server_default="30", nullable=False)
        )
        batch_op.add_column(
            sa.Column("proposal_days", sa.Integer(), server_default="7", nullable=False)
        )
    with op.batch_alter_table("terms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("council_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("terms", schema=None) as batch_op:
        batch_op.drop_column("council_on")
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("proposal_days")
        batch_op.drop_column("failing_proposal_days")
