"""timetable: weekly hours, entries valid from a date

Revision ID: 6f4ff78a7d0b
Revises: 5c2093e5ba7d
Create Date: 2026-12-05 21:17:41.665974+00:00

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6f4ff78a7d0b"
down_revision: str | Sequence[str] | None = "5c2093e5ba7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teaching_assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("weekly_hours", sa.Integer(), server_default="1", nullable=False)
        )

    with op.batch_alter_table("timetable_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_timetable_entries_assignment_id_weekday_slot_number"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_timetable_entries_assignment_id_weekday_slot_number_valid_from"),
            ["assignment_id", "weekday", "slot_number", "valid_from"],
        )


def downgrade() -> None:
    with op.batch_alter_table("timetable_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_timetable_entries_assignment_id_weekday_slot_number_valid_from"),
            type_="unique",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_timetable_entries_assignment_id_weekday_slot_number"),
            ["assignment_id", "weekday", "slot_number"],
        )

    with op.batch_alter_table("teaching_assignments", schema=None) as batch_op:
        batch_op.drop_column("weekly_hours")
