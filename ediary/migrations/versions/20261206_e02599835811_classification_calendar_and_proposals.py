"""classification: the calendar, acknowledgements of proposals, director's corrections

Revision ID: e02599835811
Revises: f0c262108353
Create Date: 2026-12-06 00:40:00.000000+00:00

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e02599835811"
down_revision: str | Sequence[str] | None = "f0c262108353"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proposal_acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "ongoing",
                "proposed_term",
                "term",
                "proposed_year",
                "year",
                name="gradekind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["users.id"],
            name=op.f("fk_proposal_acknowledgements_guardian_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_proposal_acknowledgements_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_proposal_acknowledgements_school_id_schools"),
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["terms.id"], name=op.f("fk_proposal_acknowledgements_term_id_terms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_acknowledgements")),
        sa.UniqueConstraint(
            "guardian_id",
            "pupil_id",
            "term_id",
            "kind",
            name=op.f("uq_proposal_acknowledgements_guardian_id_pupil_id_term_id_kind"),
        ),
    )
    with op.batch_alter_table("proposal_acknowledgements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_acknowledgements_pupil_id"), ["pupil_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_proposal_acknowledgements_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_proposal_acknowledgements_term_id"), ["term_id"], unique=False
        )

    op.create_table(
        "grade_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("grade_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("director_id", sa.Integer(), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["director_id"], ["users.id"], name=op.f("fk_grade_corrections_director_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["grade_id"], ["grades.id"], name=op.f("fk_grade_corrections_grade_id_grades")
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_grade_corrections_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_grade_corrections_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_corrections")),
    )
    with op.batch_alter_table("grade_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grade_corrections_grade_id"), ["grade_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grade_corrections_pupil_id"), ["pupil_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grade_corrections_school_id"), ["school_id"], unique=False
        )

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

    with op.batch_alter_table("grade_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grade_corrections_school_id"))
        batch_op.drop_index(batch_op.f("ix_grade_corrections_pupil_id"))
        batch_op.drop_index(batch_op.f("ix_grade_corrections_grade_id"))

    op.drop_table("grade_corrections")
    with op.batch_alter_table("proposal_acknowledgements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_acknowledgements_term_id"))
        batch_op.drop_index(batch_op.f("ix_proposal_acknowledgements_school_id"))
        batch_op.drop_index(batch_op.f("ix_proposal_acknowledgements_pupil_id"))

    op.drop_table("proposal_acknowledgements")
