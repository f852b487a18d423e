"""record views log

Revision ID: d2d391bd97ce
Revises: b58339658bfc
Create Date: 2026-12-05 22:40:59.415752+00:00

The log of staff views of a pupil's record (ediary/privacy, issue 17 item 5): one narrow row per
view of the pupil card or history, read by the pupil's guardians.

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d2d391bd97ce"
down_revision: str | Sequence[str] | None = "b58339658bfc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_views",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("viewer_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column(
            "what",
            sa.Enum("card", "history", name="viewed", native_enum=False, length=24),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_record_views_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["viewer_id"], ["users.id"], name=op.f("fk_record_views_viewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_views")),
    )
    with op.batch_alter_table("record_views", schema=None) as batch_op:
        batch_op.create_index("ix_record_views_pupil", ["pupil_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_views", schema=None) as batch_op:
        batch_op.drop_index("ix_record_views_pupil")

    op.drop_table("record_views")
