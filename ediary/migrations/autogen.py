"""What autogenerate and the drift test share: how types are written and compared.

Kept apart from env.py so that tests/test_migrations.py compares the migrated schema with the
models under exactly the options that `make migration` uses to write migrations.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate.api import AutogenContext

from ediary.db import UTCDateTime


def render_item(type_: str, obj: Any, _context: AutogenContext) -> str | bool:
    """Writes the project's own column types as plain `sa.` types.

    A migration must not import application code (house rule 9), so `UTCDateTime` becomes the
    type it stores as: `DateTime(timezone=True)` (timestamptz on PostgreSQL). Its conversion to
    aware UTC lives in Python, not in the schema. False means "render as Alembic normally does".
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def context_options() -> dict[str, Any]:
    return {
        "target_metadata": None,  # filled in by the caller, which has imported the models
        "render_item": render_item,
        # Column types are compared (Alembic compares a TypeDecorator by its impl, so UTCDateTime
        # matches the DateTime(timezone=True) that migrations write).
        "compare_type": True,
        # SQLite can ALTER almost nothing; batch mode makes autogenerate write the
        # copy-and-rename form, which PostgreSQL runs as plain ALTERs.
        "render_as_batch": True,
    }
