"""The demo teacher's lesson now, at any hour of any day, for the demo kiosk.

`ediary demo` is tried on Saturdays and in the evening too, when the timetable has no lesson, and
its point is the teacher's roll reaching a parent's phone. So, when the demo teacher has no
lesson under way, `ediary demo` makes one, the way a school would, and keeps the data honest:
nobody and no room in two places at once, and every change written through an operation, with its
history row like every other demo row:

- an extra lesson (zajęcia dodatkowe) of the teacher's own subject with one of their classes,
  from this minute for 45 minutes, in a room free then (out of school hours, always possible);
- in school hours, when their classes are busy: the teacher substitutes in the lesson one of
  those classes has now;
- in a break, when every class is about to go in: the class's next lesson (with the teacher as a
  substitute, if it is somebody else's) starts now, a few minutes early.

It is "already started" (starts_at <= now), so the kiosk accepts entries at once. Moving a
timetable slot instead would leave a hole in another day and not work on a Saturday.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.people.models import User
from ediary.schools.models import GroupMembership, Guardianship, Pupil, Room, School, SchoolClass
from ediary.timetable.models import Lesson, LessonStatus, TeachingAssignment, TimetableEntry
from ediary.timetable.operations import ensure_lessons, substitute

DEMO_TEACHER = "nauczyciel1"
DEMO_PARENT = "rodzic1"
LESSON = dt.timedelta(minutes=45)


@dataclass(frozen=True)
class DemoLesson:
    lesson: Lesson
    parent: str  # the login of a parent with a child in the lesson
    how: str  # "timetable", "extra", "substitution", "early" or "early substitution"


class NoDemoLesson(LookupError):
    """The demo teacher is missing, or no honest lesson can be had now (should not happen)."""


@operation
def add_extra_lesson(actor: Actor, lesson: Lesson) -> Lesson:
    db.session.add(lesson)
    return lesson


@operation
def start_early(actor: Actor, lesson: Lesson, starts_at: dt.datetime) -> Lesson:
    """The lesson begins at `starts_at` instead, and lasts as long as it did."""
    lesson.ends_at = starts_at + (lesson.ends_at - lesson.starts_at)
    lesson.starts_at = starts_at
    return lesson


def demo_lesson_now(actor: Actor, now: dt.datetime) -> DemoLesson:
    """The demo teacher's lesson under way at `now`, made if there is none (see the module).
    Needs an app context; the caller commits."""
    teacher = db.session.scalar(select(User).where(User.login == DEMO_TEACHER))
    if teacher is None:
        raise NoDemoLesson(f"the database has no {DEMO_TEACHER}")
    assignments = _assignments(teacher)
    if not assignments:
        raise NoDemoLesson(f"{DEMO_TEACHER} teaches nothing")
    school = db.session.get_one(School, assignments[0].school_id)
    ensure_lessons(actor, school, _local(now, school).date())  # today's timetable, as kiosks do
    current = _under_way(Lesson.teacher_id == teacher.id, at=now)
    if current is not None:
        return DemoLesson(current, _parent_in(current), "timetable")
    start = now.replace(second=0, microsecond=0)
    for assignment in assignments:
        lesson = _extra(actor, school, teacher, assignment, start)
        if lesson is not None:
            return DemoLesson(lesson, _parent_in(lesson), "extra")
    classes = [a.class_id for a in assignments] + _other_classes(school, assignments)
    for class_id in classes:
        taken = _take_over(actor, teacher, class_id, now, start)
        if taken is not None:
            return taken
    raise NoDemoLesson(f"no class of {school.short_name} can have a lesson now")


def _local(moment: dt.datetime, school: School) -> dt.datetime:
    return moment.astimezone(ZoneInfo(school.timezone))


def _assignments(teacher: User) -> list[TeachingAssignment]:
    """The teacher's classes, the one with the demo parent's child first."""
    found = db.session.scalars(
        select(TeachingAssignment)
        .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
        .where(TeachingAssignment.teacher_id == teacher.id, TeachingAssignment.group_id.is_(None))
        .order_by(SchoolClass.grade_level, SchoolClass.name, TeachingAssignment.id)
    ).all()
    demo_classes = set(
        db.session.scalars(
            select(Pupil.class_id)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .join(User, User.id == Guardianship.user_id)
            .where(User.login == DEMO_PARENT)
        )
    )
    return sorted(found, key=lambda a: a.class_id not in demo_classes)


def _other_classes(school: School, assignments: list[TeachingAssignment]) -> list[int]:
    own = {a.class_id for a in assignments}
    everyone = db.session.scalars(
        select(SchoolClass.id).where(SchoolClass.school_id == school.id).order_by(SchoolClass.id)
    )
    return [c for c in everyone if c not in own]


def _overlapping(*where: Any, start: dt.datetime, end: dt.datetime) -> list[Lesson]:
    return list(
        db.session.scalars(
            select(Lesson)
            .where(
                *where,
                Lesson.status != LessonStatus.CANCELLED,
                Lesson.starts_at < end,
                Lesson.ends_at > start,
            )
            .order_by(Lesson.starts_at)
        )
    )


def _under_way(*where: Any, at: dt.datetime) -> Lesson | None:
    found = _overlapping(*where, start=at, end=at + dt.timedelta(microseconds=1))
    return found[0] if found else None


def _extra(
    actor: Actor,
    school: School,
    teacher: User,
    assignment: TeachingAssignment,
    start: dt.datetime,
) -> Lesson | None:
    """An extra lesson of this assignment from `start`, if teacher, class and a room are free."""
    end = start + LESSON
    if _overlapping(Lesson.teacher_id == teacher.id, start=start, end=end) or _overlapping(
        Lesson.class_id == assignment.class_id, start=start, end=end
    ):
        return None
    free = [
        r
        for r in _rooms(school, assignment)
        if not _overlapping(Lesson.room_id == r, start=start, end=end)
    ]
    if not free:
        return None
    day = _local(start, school).date()
    return add_extra_lesson(
        actor,
        Lesson(
            school_id=school.id,
            timetable_entry_id=None,
            date=day,
            slot_number=_slot_number(assignment.class_id, day, start),
            starts_at=start,
            ends_at=end,
            class_id=assignment.class_id,
            group_id=None,
            subject_id=assignment.subject_id,
            teacher_id=teacher.id,
            room_id=free[0],
            status=LessonStatus.PLANNED,
        ),
    )


def _rooms(school: School, assignment: TeachingAssignment) -> list[int]:
    """The rooms this assignment is timetabled in (most used first), then the school's others."""
    usual = Counter(
        db.session.scalars(
            select(TimetableEntry.room_id).where(TimetableEntry.assignment_id == assignment.id)
        )
    )
    others = db.session.scalars(
        select(Room.id).where(Room.school_id == school.id).order_by(Room.id)
    )
    return [room for room, _n in usual.most_common()] + [r for r in others if r not in usual]


def _slot_number(class_id: int, day: dt.date, start: dt.datetime) -> int:
    """The lesson's number in the class's day: after the ones before it; 0 ("lekcja zerowa")
    before the day's first lesson."""
    numbers = db.session.execute(
        select(func.max(Lesson.slot_number), func.count(Lesson.id)).where(
            Lesson.class_id == class_id, Lesson.date == day, Lesson.starts_at < start
        )
    ).one()
    later = db.session.scalar(
        select(func.count(Lesson.id)).where(
            Lesson.class_id == class_id, Lesson.date == day, Lesson.starts_at >= start
        )
    )
    if numbers[1]:
        return int(numbers[0]) + 1
    return 0 if later else 1


def _take_over(
    actor: Actor, teacher: User, class_id: int, now: dt.datetime, start: dt.datetime
) -> DemoLesson | None:
    """The class's lesson under way (the teacher substitutes), or in a break its next lesson,
    started now (substituted too if it is somebody else's), when that puts nobody in two places.
    """
    current = _under_way(Lesson.class_id == class_id, at=now)
    if current is not None:
        if _overlapping(Lesson.teacher_id == teacher.id, start=now, end=current.ends_at):
            return None
        return DemoLesson(substitute(actor, current, teacher), _parent_in(current), "substitution")
    coming = _overlapping(Lesson.class_id == class_id, start=start, end=start + LESSON)
    if not coming:
        return None  # free for a whole lesson: an extra one, if the teacher taught this class
    lesson = coming[0]
    # Between now and its start the class is in a break; its room and the teacher must be too.
    ends = start + (lesson.ends_at - lesson.starts_at)
    in_the_way = (
        _overlapping(Lesson.class_id == class_id, start=start, end=ends)
        + _overlapping(Lesson.teacher_id == teacher.id, start=start, end=ends)
        + _overlapping(Lesson.room_id == lesson.room_id, start=start, end=lesson.starts_at)
    )
    if any(other.id != lesson.id for other in in_the_way):
        return None
    how = "early"
    if lesson.teacher_id != teacher.id:
        substitute(actor, lesson, teacher)
        how = "early substitution"
    return DemoLesson(start_early(actor, lesson, start), _parent_in(lesson), how)


def _parent_in(lesson: Lesson) -> str:
    """A parent of a pupil in the lesson: the demo parent when their child is there."""
    query = (
        select(User.login)
        .join(Guardianship, Guardianship.user_id == User.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.class_id == lesson.class_id, Pupil.active.is_(True))
        .order_by(User.login != DEMO_PARENT, User.id)
        .limit(1)
    )
    if lesson.group_id is not None:
        query = query.join(GroupMembership, GroupMembership.pupil_id == Pupil.id).where(
            GroupMembership.group_id == lesson.group_id
        )
    login = db.session.scalar(query)
    if login is None:
        raise NoDemoLesson(f"nobody's child is in {lesson!r}")
    return login
