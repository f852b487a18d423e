"""The demo's absent teacher (issue 14 item 3): in SP Mirzec one teacher is off sick today (the
next school day on a weekend or a holiday), so that `dyrektor1` has substitutions to plan. The
first of their lessons is already substituted (the staff room's list is not empty and shows the
absent teacher's name); the others wait on the Zastępstwa page.

The demo accounts' own teachers (nauczyciel1, wychowawca1) are never the absent one: their
lessons are what their logins show.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.demo.accounts import DEMO_LOGINS
from ediary.people.models import User
from ediary.schools.models import School
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.operations import substitute
from ediary.timetable.substitutions import absent_lessons

SCHOOL = "SP Mirzec"


def seed_absence(today: dt.date) -> User | None:
    """Picks and half-plans the absent teacher; returns them (None: no lessons ahead)."""
    school = db.session.scalar(select(School).where(School.short_name == SCHOOL))
    if school is None:
        return None
    day = db.session.scalar(
        select(func.min(Lesson.date)).where(Lesson.school_id == school.id, Lesson.date >= today)
    )
    if day is None:
        return None
    busiest = db.session.execute(
        select(Lesson.teacher_id, func.count())
        .join(User, User.id == Lesson.teacher_id)
        .where(
            Lesson.school_id == school.id,
            Lesson.date == day,
            Lesson.status == LessonStatus.PLANNED,
            Lesson.substitute_for_id.is_(None),
            User.login.not_in(DEMO_LOGINS),
        )
        .group_by(Lesson.teacher_id)
        .order_by(func.count().desc(), Lesson.teacher_id)
        .limit(1)
    ).first()
    if busiest is None:
        return None
    absent = db.session.get_one(User, busiest[0])
    planned = [
        item
        for item in absent_lessons(school, absent, day)
        if item.lesson.status is LessonStatus.PLANNED and item.candidates
    ]
    if planned:
        first = planned[0]
        # `substitute`, not `substitute_lesson`: the seeded past is not live news (no journal
        # event); the candidate is free in that slot, as the page would propose.
        substitute(Actor.system(Channel.SYSTEM), first.lesson, first.candidates[0].teacher)
    return absent
