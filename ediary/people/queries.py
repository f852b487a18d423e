"""What a person's home page lists: their children, classes, lessons today, schools, gminas."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ediary.db import db
from ediary.people.models import Role, User
from ediary.schools.models import District, Guardianship, Pupil, School, SchoolClass
from ediary.timetable.models import Lesson, TeachingAssignment
from ediary.timetable.queries import lessons_of_teacher


@dataclass
class HomeLinks:
    children: list[Pupil] = field(default_factory=list)
    tutored: list[SchoolClass] = field(default_factory=list)
    taught: list[SchoolClass] = field(default_factory=list)  # besides the tutored ones
    lessons_today: list[Lesson] = field(default_factory=list)
    schools: list[School] = field(default_factory=list)
    districts: list[District] = field(default_factory=list)


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()


def home_links(user: User) -> HomeLinks:
    links = HomeLinks()
    links.children = list(
        db.session.scalars(
            select(Pupil)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(Guardianship.user_id == user.id)
            .order_by(Pupil.first_name)
        )
    )
    links.tutored = list(
        db.session.scalars(select(SchoolClass).where(SchoolClass.form_tutor_id == user.id))
    )
    if any(m.role is Role.TEACHER for m in user.memberships):
        links.lessons_today = list(lessons_of_teacher(user.id, today()))
        # Every day, not only on a day with lessons: the way to the pupils' cards.
        links.taught = list(
            db.session.scalars(
                select(SchoolClass)
                .join(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
                .where(
                    TeachingAssignment.teacher_id == user.id,
                    SchoolClass.id.not_in([c.id for c in links.tutored]),
                )
                .distinct()
                .order_by(SchoolClass.grade_level, SchoolClass.name)
            )
        )
    office = {
        m.school_id
        for m in user.memberships
        if m.role in (Role.SECRETARY, Role.SCHOOL_ADMIN) and m.school_id is not None
    }
    if office:
        links.schools = list(db.session.scalars(select(School).where(School.id.in_(office))))
    district_ids = {m.district_id for m in user.memberships if m.role is Role.DISTRICT_ADMIN}
    if district_ids:
        links.districts = list(
            db.session.scalars(select(District).where(District.id.in_(district_ids)))
        )
    return links
