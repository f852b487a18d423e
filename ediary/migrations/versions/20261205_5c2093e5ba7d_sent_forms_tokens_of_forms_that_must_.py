"""sent forms: tokens of forms that must not act twice

Revision ID: 5c2093e5ba7d
Revises: 822e39fef4b9
Create Date: 2026-12-05 19:04:51.346069+00:00

One table: the one-time token of each form sent through ediary/web/pages.py with
`form_token()`, written with the form's operation, so that the same form sent again finds it
and does nothing twice. Rows are kept a day; nothing exists to copy.

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2093e5ba7d"
down_revision: str | Sequence[str] | None = "822e39fef4b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sent_forms",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sent_forms_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "token", name=op.f("pk_sent_forms")),
    )
    with op.batch_alter_table("sent_forms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_forms_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sent_forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_forms_at"))
    op.drop_table("sent_forms")
