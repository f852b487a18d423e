"""People who log in: staff, parents, district administrators, and their roles."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ediary.audit.recording import Audited
from ediary.db import Base, BigIntPK, utcnow
from ediary.enums import enum_column


class Role(enum.StrEnum):
    TEACHER = "teacher"
    SECRETARY = "secretary"
    SCHOOL_ADMIN = "school_admin"
    DISTRICT_ADMIN = "district_admin"


class User(Audited, UserMixin, Base):
    __tablename__ = "users"
    __audit_redacted__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    # A guardian's address is in the pupil register (księga uczniów); staff need none.
    address: Mapped[str | None] = mapped_column(String(250))
    active: Mapped[bool] = mapped_column(default=True)
    # Demo accounts log in only while the server runs in demo mode (their password is public).
    is_demo: Mapped[bool] = mapped_column(default=False)
    # Bumped on logout, disable and password change: every session carrying an older one ends.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="selectin")

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_id(self) -> str:
        # The session cookie holds "id:version"; a bumped version logs every old session out.
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.login}>"


class Membership(Audited, Base):
    """A role of a user: staff roles in one school, the district role in one gmina."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "role", "school_id", "district_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)

    user: Mapped[User] = relationship(back_populates="memberships")


class LoginFailure(Base):
    """One failed login (web or kiosk), or one being checked: the throttle counts these
    (ediary/people/throttle.py). Kept in the database so that limits hold across processes."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_login_lane_at", "login", "lane", "at"),
        Index("ix_login_failures_lane_at", "lane", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # As typed (trimmed, lower case): an account that does not exist is counted the same way.
    login: Mapped[str] = mapped_column(String(80))
    # "" from a browser unknown to this account, "device:<nonce>" from a browser that has logged
    # in to it before (its device cookie), "kiosk:<id>" at a classroom kiosk.
    lane: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str | None] = mapped_column(String(64))  # the web client's address
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
