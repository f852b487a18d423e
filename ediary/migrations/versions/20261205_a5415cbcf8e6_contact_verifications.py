"""contact verifications

Revision ID: a5415cbcf8e6
Revises: b541568dba09
Create Date: 2026-12-05 21:20:18.763568+00:00

From now on notifications go only to an address its owner has proved (ediary/contacts). The
addresses already on file are marked verified here: until this revision no page could store one,
so every one of them came from the school's own trusted set-up (the command line, a provisioning
import by the administrator), not from someone typing an address for another person; dropping
them would silently stop the notifications those parents already receive.

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a5415cbcf8e6"
down_revision: str | Sequence[str] | None = "b541568dba09"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("email", "phone", name="contactkind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_contact_verifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_verifications")),
    )
    with op.batch_alter_table("contact_verifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_verifications_user_kind", ["user_id", "kind"], unique=False
        )

    users = sa.table("users", sa.column("id", sa.Integer), sa.column("email"), sa.column("phone"))
    contacts = sa.table(
        "contact_verifications",
        sa.column("user_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("address", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("verified_at", sa.DateTime(timezone=True)),
        sa.column("sends", sa.Integer),
        sa.column("attempts", sa.Integer),
    )
    now = sa.func.current_timestamp()
    for kind, column in (("email", users.c.email), ("phone", users.c.phone)):
        op.execute(
            contacts.insert().from_select(
                ["user_id", "kind", "address", "created_at", "verified_at", "sends", "attempts"],
                sa.select(
                    users.c.id,
                    sa.literal(kind),
                    column,
                    now,
                    now,
                    sa.literal(0),
                    sa.literal(0),
                ).where(column.is_not(None), column != ""),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_verifications_user_kind")

    op.drop_table("contact_verifications")
