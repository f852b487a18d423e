"""behaviour grades and opinions

Revision ID: 380b9a9fa9f8
Revises: e02599835811
Create Date: 2026-12-06 00:37:45.066087+00:00

The behaviour grade (ediary/council, issue 15 item 5): the teachers' opinions of a pupil per term
and the form tutor's proposed and final grade (one of each per pupil and term).

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "380b9a9fa9f8"
down_revision: str | Sequence[str] | None = "e02599835811"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "behaviour_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("proposed", "final", name="behaviourkind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "value",
            sa.Enum(
                "wzorowe",
                "bardzo_dobre",
                "dobre",
                "poprawne",
                "nieodpowiednie",
                "naganne",
                name="behaviour",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("correction_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_behaviour_grades_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_behaviour_grades_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["terms.id"], name=op.f("fk_behaviour_grades_term_id_terms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_behaviour_grades")),
        sa.UniqueConstraint(
            "term_id", "pupil_id", "kind", name=op.f("uq_behaviour_grades_term_id_pupil_id_kind")
        ),
    )
    with op.batch_alter_table("behaviour_grades", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_behaviour_grades_pupil_id"), ["pupil_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_behaviour_grades_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_behaviour_grades_term_id"), ["term_id"], unique=False)

    op.create_table(
        "behaviour_opinions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column(
            "value",
            sa.Enum(
                "wzorowe",
                "bardzo_dobre",
                "dobre",
                "poprawne",
                "nieodpowiednie",
                "naganne",
                name="behaviour",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_behaviour_opinions_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_behaviour_opinions_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["users.id"], name=op.f("fk_behaviour_opinions_teacher_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["terms.id"], name=op.f("fk_behaviour_opinions_term_id_terms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_behaviour_opinions")),
        sa.UniqueConstraint(
            "term_id",
            "pupil_id",
            "teacher_id",
            name=op.f("uq_behaviour_opinions_term_id_pupil_id_teacher_id"),
        ),
    )
    with op.batch_alter_table("behaviour_opinions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_behaviour_opinions_pupil_id"), ["pupil_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_behaviour_opinions_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_behaviour_opinions_term_id"), ["term_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("behaviour_opinions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_behaviour_opinions_term_id"))
        batch_op.drop_index(batch_op.f("ix_behaviour_opinions_school_id"))
        batch_op.drop_index(batch_op.f("ix_behaviour_opinions_pupil_id"))

    op.drop_table("behaviour_opinions")
    with op.batch_alter_table("behaviour_grades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_behaviour_grades_term_id"))
        batch_op.drop_index(batch_op.f("ix_behaviour_grades_school_id"))
        batch_op.drop_index(batch_op.f("ix_behaviour_grades_pupil_id"))

    op.drop_table("behaviour_grades")
