"""The school structure: gminas, schools, years and terms, rooms, subjects, classes, pupils."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Numeric, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base
from ediary.enums import enum_column
from ediary.folding import search_key


class ImprovementPolicy(enum.StrEnum):
    """How an improved grade (poprawa) and its original count in the average (statute decides)."""

    BOTH = "both"  # both grades count
    LATEST = "latest"  # only the improvement counts
    BETTER = "better"  # only the higher of the two counts


class GuardianRelation(enum.StrEnum):
    """Who a guardian is to the child (the register records it)."""

    MOTHER = "mother"
    FATHER = "father"
    LEGAL_GUARDIAN = "legal_guardian"  # opiekun prawny: a court-appointed guardian
    OTHER = "other"


class District(Audited, Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # What the gmina pays its SMS gateway per message, in grosze (figures across schools).
    sms_cost_grosze: Mapped[int] = mapped_column(default=16, server_default="16")

    schools: Mapped[list[School]] = relationship(back_populates="district", order_by="School.name")


class School(Audited, Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Warsaw")
    # Grading rules from the school's statute, as in force today (kiosks, rolls, today's figures
    # read them); each school year has its own (ediary/gradingrules/models.py, YearRules).
    plus_value: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0.5"))
    minus_value: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0.25"))
    improvement_policy: Mapped[ImprovementPolicy] = mapped_column(
        enum_column(ImprovementPolicy), default=ImprovementPolicy.BOTH
    )
    # Absence share (percent) at which tutors and parents are warned; 50% risks non-classification.
    absence_warning_percent: Mapped[int] = mapped_column(default=30)
    # Entries for a lesson (roll, topic, grades, remarks) open this many minutes before its bell:
    # a teacher who logs in during the break takes the roll, a roll for tomorrow is refused.
    entry_lead_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # The statute's limits of tests (sprawdziany) per class, warned before a teacher announces
    # one more (ediary/homework); kartkówki are not counted.
    tests_per_week: Mapped[int] = mapped_column(default=3, server_default="3")
    tests_per_day: Mapped[int] = mapped_column(default=1, server_default="1")
    # Attendance below this percent risks non-classification (nieklasyfikowanie): statute, 50%.
    non_classification_percent: Mapped[int] = mapped_column(default=50, server_default="50")
    # Proposed term/year grades are due this many days before the classification council: a
    # failing one earlier (the statute: parents learn of it about a month ahead), the others later
    # (ediary/classification/calendar.py).
    failing_proposal_days: Mapped[int] = mapped_column(default=30, server_default="30")
    proposal_days: Mapped[int] = mapped_column(default=7, server_default="7")

    district: Mapped[District] = relationship(back_populates="schools")


class SchoolYear(Audited, Base):
    __tablename__ = "school_years"
    __table_args__ = (UniqueConstraint("school_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))  # "2026/2027"
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    # Set by the rollover (ediary/office/rollover.py): a closed year stays visible, read-only.
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    terms: Mapped[list[Term]] = relationship(back_populates="year", order_by="Term.number")


class Term(Audited, Base):
    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("year_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("school_years.id"), index=True)
    number: Mapped[int]
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    # The classification council (rada klasyfikacyjna) of this term, set by the director; the last
    # term's council is the year's. Final grades are locked after it (ediary/classification).
    council_on: Mapped[dt.date | None] = mapped_column(Date, default=None)

    year: Mapped[SchoolYear] = relationship(back_populates="terms")


class Room(Audited, Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))


class Subject(Audited, Base):
    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    short_name: Mapped[str] = mapped_column(String(12))


class SchoolClass(Audited, Base):
    """An oddział, e.g. "5a", with its form tutor (wychowawca)."""

    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("year_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("school_years.id"), index=True)
    name: Mapped[str] = mapped_column(String(12))
    grade_level: Mapped[int]
    form_tutor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    school: Mapped[School] = relationship()
    pupils: Mapped[list[Pupil]] = relationship(
        back_populates="school_class", order_by="(Pupil.last_name, Pupil.first_name)"
    )


class ClassGroup(Audited, Base):
    """A part of a class taught separately (e.g. a language group)."""

    __tablename__ = "class_groups"
    __table_args__ = (UniqueConstraint("class_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))


class GroupMembership(Audited, Base):
    __tablename__ = "group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "pupil_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("class_groups.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)


class Pupil(Audited, Base):
    __tablename__ = "pupils"
    # PESEL is national, but a pupil who moves between two schools of a gmina has a row in each.
    __table_args__ = (UniqueConstraint("school_id", "pesel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    # The pupil register (księga uczniów) holds what the law asks: PESEL, or for a pupil without
    # one the birth date and place and an identity document; the address; admission and leaving.
    pesel: Mapped[str | None] = mapped_column(String(11))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    birth_place: Mapped[str | None] = mapped_column(String(120))
    identity_document: Mapped[str | None] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(String(250))
    admitted_on: Mapped[dt.date | None] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    leave_reason: Mapped[str | None] = mapped_column(String(200))
    # The office's search (ediary/office/search.py): names and PESEL folded (no case, no
    # diacritics), kept on every write by `_keep_search_key` below, whoever writes.
    search_key: Mapped[str] = mapped_column(String(400), default="", server_default="", index=True)
    # A page that edits the register carries the version it showed: a stale one is a conflict.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    school_class: Mapped[SchoolClass] = relationship(back_populates="pupils")

    __mapper_args__ = {"version_id_col": version}
    __audit_ignored__ = frozenset({"version", "search_key"})

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@event.listens_for(Pupil, "before_insert")
@event.listens_for(Pupil, "before_update")
def _keep_search_key(_mapper: Any, _connection: Any, pupil: Pupil) -> None:
    pupil.search_key = search_key(pupil.first_name, pupil.last_name, pupil.pesel)


class Guardianship(Audited, Base):
    """A parent or legal guardian's account linked to a pupil."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("user_id", "pupil_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    relation: Mapped[GuardianRelation | None] = mapped_column(enum_column(GuardianRelation))


class DayOff(Audited, Base):
    """A day of the school year without lessons: a holiday (ferie, przerwa świąteczna) or a day
    the director freed (dzień wolny od zajęć dydaktycznych). Weekends need no rows."""

    __tablename__ = "days_off"
    __table_args__ = (UniqueConstraint("school_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(120))
