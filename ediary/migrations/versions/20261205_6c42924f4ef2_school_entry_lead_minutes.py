"""school entry lead minutes

Revision ID: 6c42924f4ef2
Revises: a40614e58806
Create Date: 2026-12-05 18:00:46.630359+00:00

Entries for a lesson open `entry_lead_minutes` before its bell (issue 10, item 3). Existing
schools get 15, the kiosk's "lesson starting within 15 minutes".

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6c42924f4ef2"
down_revision: str | Sequence[str] | None = "a40614e58806"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("entry_lead_minutes", sa.Integer(), server_default="15", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("entry_lead_minutes")
