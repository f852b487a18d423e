"""absences: merged lessons and the first-lesson cancellation notice

Revision ID: c3f1a7d2e914
Revises: 1f8a6c3d2b90
Create Date: 2026-12-06 00:45:00+00:00

Issue 14 item 3: a lesson of an absent teacher's group merged into another group's lesson in the
same slot (`lessons.merged_into_id`), and the parents' choice to hear of a cancelled first
lesson of the day (`notification_preferences.first_cancelled`, on by default: existing parents
get it too, as new ones do).

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3f1a7d2e914"
down_revision: str | Sequence[str] | None = "1f8a6c3d2b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_lessons_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_lessons_merged_into_id_lessons"), "lessons", ["merged_into_id"], ["id"]
        )
    with op.batch_alter_table("notification_preferences", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_cancelled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_preferences", schema=None) as batch_op:
        batch_op.drop_column("first_cancelled")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_lessons_merged_into_id_lessons"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_lessons_merged_into_id"))
        batch_op.drop_column("merged_into_id")
