"""What the office records besides the school structure's rows."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary.audit.recording import Audited
from ediary.db import Base
from ediary.enums import enum_column
from ediary.schools.models import GuardianRelation


class RecordedParent(Audited, Base):
    """A parent the pupil register names who may not see the child's data (deprived of parental
    authority, say): names and address for the register, and no account, no link, no access.

    A guardian who may see the child is an account linked by a `Guardianship`; this row is kept
    apart on purpose, so that no access check anywhere has to remember a "no access" flag.
    """

    __tablename__ = "recorded_parents"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(String(250))
    relation: Mapped[GuardianRelation | None] = mapped_column(enum_column(GuardianRelation))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
