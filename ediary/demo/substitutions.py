"""The demo's absent teacher (issue 14 item 3): in SP Mirzec one teacher is off sick today (the
next school day on a weekend or a holiday), so that `dyrektor1` has substitutions to plan. The
first of their lessons is already substituted (the staff room's list is not empty and shows the
absent teacher's name); the others wait on the Zastępstwa page. Their last lesson of the day is
made a group's, with the class's other group taught at the same time by a present teacher, so
that merging the groups is proposed too.

The demo accounts' own teachers (nauczyciel1, wychowawca1) are never the absent one: their
lessons are what their logins show.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.demo.accounts import DEMO_LOGINS
from ediary.people.models import User
from ediary.schools.models import ClassGroup, Pupil, Room, School
from ediary.schools.operations import add_to_group
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.operations import assign_teacher, substitute
from ediary.timetable.substitutions import AbsentLesson, absent_lessons

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
    if len(planned) > 1 and planned[-1].candidates:
        split_in_groups(Actor.system(Channel.SYSTEM), school, planned[-1])
    return absent


@operation
def split_in_groups(actor: Actor, school: School, item: AbsentLesson) -> Lesson:
    """The absent teacher's last lesson of the day becomes group 1's, and group 2 of the class
    has the same subject at the same time with a present teacher in another room: the page then
    proposes "Połącz z grupą" for it (issue 14 item 3). Returns group 2's lesson."""
    lesson = item.lesson
    teacher = next(
        (c.teacher for c in item.candidates if c.teacher.login not in DEMO_LOGINS),
        item.candidates[0].teacher,
    )
    busy = select(Lesson.room_id).where(
        Lesson.school_id == school.id,
        Lesson.date == lesson.date,
        Lesson.starts_at < lesson.ends_at,
        Lesson.ends_at > lesson.starts_at,
    )
    room = db.session.scalars(
        select(Room).where(Room.school_id == school.id, Room.id.not_in(busy)).order_by(Room.name)
    ).first()
    one = ClassGroup(school_id=school.id, class_id=lesson.class_id, name="gr. 1")
    two = ClassGroup(school_id=school.id, class_id=lesson.class_id, name="gr. 2")
    db.session.add_all([one, two])
    db.session.flush()
    pupils = db.session.scalars(
        select(Pupil)
        .where(Pupil.class_id == lesson.class_id, Pupil.active.is_(True))
        .order_by(Pupil.last_name, Pupil.first_name)
    ).all()
    half = len(pupils) // 2
    for n, pupil in enumerate(pupils):
        add_to_group(actor, one if n < half else two, pupil)
    assign_teacher(actor, teacher, lesson.school_class, lesson.subject, two)
    lesson.group_id = one.id
    # Group 2's lesson is one the director arranges for that day, not an entry of the weekly
    # plan (no timetable entry: a lesson made by hand, which `regenerate` keeps). The plan keeps
    # the class's whole-class entry in that slot, and a group's entry beside it would be a clash
    # by the plan's own rule (ediary/timetable/grid.py `_same_pupils`).
    other = Lesson(
        school_id=school.id,
        timetable_entry_id=None,
        date=lesson.date,
        slot_number=lesson.slot_number,
        starts_at=lesson.starts_at,
        ends_at=lesson.ends_at,
        class_id=lesson.class_id,
        group_id=two.id,
        subject_id=lesson.subject_id,
        teacher_id=teacher.id,
        room_id=room.id if room is not None else lesson.room_id,
    )
    db.session.add(other)
    return other
