"""The year-end archives built (§22): which file, its hash, who built it. The history row that
its creation writes is the record the law asks for; the file itself lives on the school's
data carrier."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base, utcnow


class YearArchive(Audited, Base):
    __tablename__ = "year_archives"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("school_years.id"))
    file_name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str] = mapped_column(String(300))  # the certificate's subject
    built_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
