"""Who is logged in: Flask-Login's loader and the login check shared by the web and the kiosk."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import ARRAY, Integer, any_, bindparam, select

from ediary.db import db
from ediary.people.models import User
from ediary.people.passwords import verify_password


def load_session_user(session_id: str) -> User | None:
    """The cookie holds "id:version"; a disabled account or an older version is logged out."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not may_log_in(user):
        return None
    return user


def may_log_in(user: User) -> bool:
    # Demo passwords are public: demo accounts work only on a server started in demo mode.
    return user.active and (not user.is_demo or bool(current_app.config["DEMO_MODE"]))


def authenticate(login: str, password: str) -> User | None:
    """The user if the password is right and the account may log in; None for every failure."""
    user: User | None = db.session.scalar(select(User).where(User.login == login.strip().lower()))
    ok = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not ok or not may_log_in(user):
        return None
    return user


def valid_session_versions(user_ids: list[int]) -> dict[int, int]:
    """The session version of each account that may still be logged in (the rule of
    `may_log_in`, in one query): the relay's sweep ends sockets of any other version."""
    if db.session.get_bind().dialect.name == "postgresql":
        # One array parameter: the same statement every time, compiled once (the relay's sweep
        # sends this every 2 s; an IN of 500 parameters was most of an idle process's queries).
        ids = bindparam("user_ids", user_ids, type_=ARRAY(Integer))
        which = User.id == any_(ids)
    else:
        which = User.id.in_(user_ids)
    query = select(User.id, User.session_version, User.active, User.is_demo).where(which)
    demo_mode = bool(current_app.config.get("DEMO_MODE"))
    return {
        user_id: version
        for user_id, version, active, is_demo in db.session.execute(query)
        if active and (not is_demo or demo_mode)
    }
