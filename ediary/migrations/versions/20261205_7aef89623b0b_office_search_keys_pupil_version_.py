"""office: search keys, pupil version, parents recorded without access

Revision ID: 7aef89623b0b
Revises: a5415cbcf8e6
Create Date: 2026-12-05 21:20:32.134889+00:00

Self-contained (house rule 9): only `sa.` types and `op.` calls, never application models, so
this file means the same thing however the models change later.
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7aef89623b0b"
down_revision: str | Sequence[str] | None = "a5415cbcf8e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recorded_parents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=80), nullable=False),
        sa.Column("last_name", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=250), nullable=True),
        sa.Column(
            "relation",
            sa.Enum(
                "mother",
                "father",
                "legal_guardian",
                "other",
                name="guardianrelation",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_recorded_parents_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_recorded_parents_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recorded_parents")),
    )
    with op.batch_alter_table("recorded_parents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recorded_parents_pupil_id"), ["pupil_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recorded_parents_school_id"), ["school_id"], unique=False
        )

    with op.batch_alter_table("pupils", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_key", sa.String(length=400), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index(batch_op.f("ix_pupils_search_key"), ["search_key"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_key", sa.String(length=400), server_default="", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_users_search_key"), ["search_key"], unique=False)

    _fill_search_keys()


# The keys of the rows that exist: the same folding as ediary/folding.py, copied so that this
# migration means the same thing however the application's code changes later.
_UNSPLIT = str.maketrans({"ł": "l", "Ł": "l", "đ": "d", "ø": "o", "ß": "ss"})


def _key(*parts: str | None) -> str:
    text = " ".join(p for p in parts if p).translate(_UNSPLIT)
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return f" {' '.join(plain.casefold().split())} "[:400]


def _fill_search_keys() -> None:
    bind = op.get_bind()
    pupils = sa.table(
        "pupils",
        sa.column("id", sa.Integer),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
        sa.column("pesel", sa.String),
        sa.column("search_key", sa.String),
    )
    for row in bind.execute(
        sa.select(pupils.c.id, pupils.c.first_name, pupils.c.last_name, pupils.c.pesel)
    ):
        bind.execute(
            pupils.update()
            .where(pupils.c.id == row.id)
            .values(search_key=_key(row.first_name, row.last_name, row.pesel))
        )
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
        sa.column("email", sa.String),
        sa.column("phone", sa.String),
        sa.column("search_key", sa.String),
    )
    query = sa.select(
        users.c.id, users.c.first_name, users.c.last_name, users.c.email, users.c.phone
    )
    for row in bind.execute(query):
        bind.execute(
            users.update()
            .where(users.c.id == row.id)
            .values(search_key=_key(row.first_name, row.last_name, row.email, row.phone))
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_search_key"))
        batch_op.drop_column("search_key")

    with op.batch_alter_table("pupils", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pupils_search_key"))
        batch_op.drop_column("version")
        batch_op.drop_column("search_key")

    with op.batch_alter_table("recorded_parents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recorded_parents_school_id"))
        batch_op.drop_index(batch_op.f("ix_recorded_parents_pupil_id"))

    op.drop_table("recorded_parents")
