"""An import's bookkeeping: the column mapping a school used last, and the uploaded file kept
server-side between the dry run and the commit (never in the browser: it holds children's data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow


class ImportMapping(Audited, Base):
    """Which column of a school's file holds which field, remembered for its next import:
    {field: header as written in the file}."""

    __tablename__ = "import_mappings"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    columns: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ImportUpload(Base):
    """A file uploaded for import, under a random token bound to the person and the school.

    The bytes are in the row (at most the upload limit, 5 MB): every server process of every
    host reads the same upload, and the commit deletes it in its own transaction, so a file is
    never left behind nor gone before its import is. Expired ones go with the next upload. Not
    `Audited`: it is bookkeeping of a request, like `SentForm`; the import's effect is."""

    __tablename__ = "import_uploads"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "csv" | "xlsx"
    filename: Mapped[str] = mapped_column(String(200))
    # Deferred: the progress poll loads the row several times a second, never its bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
