"""timetable: weekly hours, entries valid from a date, uploads

Revision ID: 99004ed704fd
Revises: 5c2093e5ba7d
Create Date: 2026-12-05 21:22:45.735477+00:00

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "99004ed704fd"
down_revision: str | Sequence[str] | None = "5c2093e5ba7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "timetable_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_timetable_uploads_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_timetable_uploads_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timetable_uploads")),
    )
    with op.batch_alter_table("timetable_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timetable_uploads_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_timetable_uploads_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_timetable_uploads_user_id"), ["user_id"], unique=False)

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

    with op.batch_alter_table("timetable_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timetable_uploads_user_id"))
        batch_op.drop_index(batch_op.f("ix_timetable_uploads_school_id"))
        batch_op.drop_index(batch_op.f("ix_timetable_uploads_at"))

    op.drop_table("timetable_uploads")
