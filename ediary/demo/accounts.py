"""The demo accounts: their shared password and what each one shows.

Every demo account is marked `is_demo`, and `people.auth.may_log_in` refuses such accounts unless
the server runs in demo mode: the password below is public, so it must open nothing elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ediary.db import db
from ediary.people.models import Role, User
from ediary.schools.models import District, Guardianship, Pupil, School, SchoolClass, Subject
from ediary.timetable.models import TeachingAssignment, TimetableEntry

DEMO_PASSWORD = "demo-dziennik-2026"  # noqa: S105 - public on purpose; works only in demo mode
DEMO_LOGINS = (
    "nauczyciel1",
    "wychowawca1",
    "rodzic1",
    "sekretariat1",
    "dyrektor1",
    "gmina.mirzec",
    "gmina.wachock",
)


@dataclass(frozen=True)
class DemoAccount:
    login: str
    name: str
    shows: str


def demo_accounts() -> list[DemoAccount]:
    """The demo accounts in the database, each with what logging in as it shows."""
    query = select(User).where(User.login.in_(DEMO_LOGINS), User.is_demo.is_(True))
    users = {u.login: u for u in db.session.scalars(query)}
    return [
        DemoAccount(login, users[login].full_name, _shows(users[login]))
        for login in DEMO_LOGINS
        if login in users
    ]


def _school_names(ids: set[int]) -> str:
    schools = db.session.scalars(select(School).where(School.id.in_(ids)).order_by(School.id))
    return ", ".join(s.short_name for s in schools)


def _shows(user: User) -> str:
    roles = {m.role for m in user.memberships}
    schools = {m.school_id for m in user.memberships if m.school_id is not None}
    if Role.DISTRICT_ADMIN in roles:
        districts = db.session.scalars(
            select(District.name).where(District.id.in_({m.district_id for m in user.memberships}))
        )
        return f"district administrator of {', '.join(districts)}: its schools and figures"
    if Role.SCHOOL_ADMIN in roles:
        return f"school administrator (director) of {_school_names(schools)}"
    if Role.SECRETARY in roles:
        return f"school secretary of {_school_names(schools)}: pupils, classes, parents"
    if Role.TEACHER in roles:
        return _teacher(user, schools)
    children = db.session.execute(
        select(Pupil.first_name, Pupil.last_name, SchoolClass.name, School.short_name)
        .select_from(Guardianship)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .join(School, School.id == Pupil.school_id)
        .where(Guardianship.user_id == user.id)
        .order_by(SchoolClass.grade_level.desc())
    ).all()
    listed = " and ".join(
        f"{first} {last} ({klass}, {school})" for first, last, klass, school in children
    )
    return f"parent of {listed}" if listed else "parent"


def _teacher(user: User, schools: set[int]) -> str:
    tutored = db.session.scalars(
        select(SchoolClass.name).where(SchoolClass.form_tutor_id == user.id)
    ).all()
    taught = db.session.execute(
        select(Subject.name, SchoolClass.name)
        .select_from(TeachingAssignment)
        .join(Subject, Subject.id == TeachingAssignment.subject_id)
        .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
        .where(TeachingAssignment.teacher_id == user.id, Subject.short_name != "gw")
        .order_by(SchoolClass.grade_level, SchoolClass.name)
    ).all()
    weekdays = set(
        db.session.scalars(
            select(TimetableEntry.weekday)
            .join(TeachingAssignment, TeachingAssignment.id == TimetableEntry.assignment_id)
            .where(TeachingAssignment.teacher_id == user.id)
        )
    )
    subjects: dict[str, list[str]] = {}
    for subject, klass in taught:
        subjects.setdefault(subject, []).append(klass)
    teaches = "; ".join(f"{s} in {', '.join(classes)}" for s, classes in subjects.items())
    parts = [f"teacher at {_school_names(schools)}"]
    if tutored:
        parts.append(f"form tutor of {', '.join(tutored)}")
    parts.append(teaches)
    if len(weekdays) == 5:
        parts.append("lessons every weekday")
    return "; ".join(p for p in parts if p)
