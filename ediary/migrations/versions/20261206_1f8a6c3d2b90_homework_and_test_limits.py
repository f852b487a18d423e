"""homework and test limits

Revision ID: 1f8a6c3d2b90
Revises: ebe60cce4bff
Create Date: 2026-12-06 00:50:00.000000+00:00

Tests and homework announced for a lesson (issue 18, item 4), and the statute's limits of tests
per class that warn the teacher: existing schools get 3 a week and 1 a day.

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1f8a6c3d2b90"
down_revision: str | Sequence[str] | None = "ebe60cce4bff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tests_per_week", sa.Integer(), server_default="3", nullable=False)
        )
        batch_op.add_column(
            sa.Column("tests_per_day", sa.Integer(), server_default="1", nullable=False)
        )
    op.create_table(
        "homework",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "test",
                "quiz",
                "homework",
                name="homeworkkind",
                native_enum=False,
                create_constraint=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_homework_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["class_groups.id"], name=op.f("fk_homework_group_id_class_groups")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_homework_lesson_id_lessons")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_homework_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_homework_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["users.id"], name=op.f("fk_homework_teacher_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_homework")),
    )
    with op.batch_alter_table("homework", schema=None) as batch_op:
        batch_op.create_index("ix_homework_class_date", ["class_id", "date"], unique=False)
        batch_op.create_index(batch_op.f("ix_homework_lesson_id"), ["lesson_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_homework_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_homework_teacher_id"), ["teacher_id"], unique=False)


def downgrade() -> None:
    op.drop_table("homework")
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("tests_per_day")
        batch_op.drop_column("tests_per_week")
