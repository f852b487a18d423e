"""login failures counted for the web and the kiosks

Revision ID: 822e39fef4b9
Revises: 6c42924f4ef2
Create Date: 2026-12-05 18:05:21.174045+00:00

One table of failed logins for the web login and the kiosks (ediary/people/throttle.py); the
kiosks' own table goes. Its rows were a throttle's memory of the last day, not records:
nothing is copied.

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "822e39fef4b9"
down_revision: str | Sequence[str] | None = "6c42924f4ef2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("login", sa.String(length=80), nullable=False),
        sa.Column("lane", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_address_at", ["address", "at"], unique=False)
        batch_op.create_index("ix_login_failures_lane_at", ["lane", "at"], unique=False)
        batch_op.create_index(
            "ix_login_failures_login_lane_at", ["login", "lane", "at"], unique=False
        )

    with op.batch_alter_table("kiosk_login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_kiosk_login_failures_kiosk_at")
        batch_op.drop_index("ix_kiosk_login_failures_login_at")
    op.drop_table("kiosk_login_failures")


def downgrade() -> None:
    op.create_table(
        "kiosk_login_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_kiosk_login_failures_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_login_failures")),
    )
    with op.batch_alter_table("kiosk_login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_kiosk_login_failures_kiosk_at", ["kiosk_id", "at"], unique=False)
        batch_op.create_index("ix_kiosk_login_failures_login_at", ["login", "at"], unique=False)

    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_login_lane_at")
        batch_op.drop_index("ix_login_failures_lane_at")
        batch_op.drop_index("ix_login_failures_address_at")
    op.drop_table("login_failures")
