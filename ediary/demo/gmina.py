"""The gmina's 8:15 board in the demo: a school-day morning at whatever hour `ediary demo` runs.

The board shows the lessons under way (ediary/district/board.py). On a weekday morning the
seeded timetable has them; in the evening or on a Saturday it has none, and the board would
only say "no lesson now". So, as `ediary.demo.now` does for the demo teacher, each school whose
classes have no lesson now gets extra lessons (zajęcia dodatkowe) for its free classes, begun a
few minutes ago and lasting 45 minutes, each with its own teacher in its usual room, through
the usual operations (history rows included). Then the morning's news, as at 8:15 in a real
gmina: most rolls taken (a few absences), some still missing (the schools where that is more
than ten minutes after the bell show as behind), a substitution and a cancellation here and
there. Where the timetable's own lessons are under way, the news is theirs: the demo seeds no
rolls for the hour it runs at. In a break between the timetable's lessons the board shows the
break, as a real one would: an extra lesson there would overlap the next bell. Nobody is in
two places at once; the demo teacher's lesson (made before) is left alone for the person trying
the kiosk.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ediary.audit.recording import Actor
from ediary.db import db
from ediary.demo.now import DEMO_TEACHER, LESSON, add_extra_lesson
from ediary.diary.models import Attendance
from ediary.diary.operations import submit_roll
from ediary.people.models import User
from ediary.schools.models import Pupil, School, SchoolClass
from ediary.timetable.models import Lesson, LessonStatus, TeachingAssignment, TimetableEntry
from ediary.timetable.operations import cancel_lesson, substitute

# Minutes since the bell, school by school: the ones past ten with a roll missing fall behind.
MINUTES_IN = (6, 14, 4, 9, 17, 3, 12, 8, 5, 11)


def _busy(start: dt.datetime, end: dt.datetime) -> tuple[set[int], ...]:
    """Classes, teachers and rooms with a lesson between `start` and `end`, in any school (a
    teacher may teach in two)."""
    rows = db.session.execute(
        select(Lesson.class_id, Lesson.teacher_id, Lesson.room_id).where(
            Lesson.status != LessonStatus.CANCELLED,
            Lesson.starts_at < end,
            Lesson.ends_at > start,
        )
    ).all()
    return {r[0] for r in rows}, {r[1] for r in rows}, {r[2] for r in rows}


def _usual_room(assignment_id: int) -> int | None:
    return db.session.scalar(
        select(TimetableEntry.room_id).where(TimetableEntry.assignment_id == assignment_id)
    )


def board_morning(actor: Actor, now: dt.datetime) -> int:
    """Makes the morning where a school has no lesson under way; returns the lessons made.
    Needs an app context; the caller commits."""
    made = 0
    schools = db.session.scalars(select(School).order_by(School.id)).all()
    demo_teacher = db.session.scalar(select(User.id).where(User.login == DEMO_TEACHER))
    for index, school in enumerate(schools):
        minutes = MINUTES_IN[index % len(MINUTES_IN)]
        made += _school_morning(actor, school, now, minutes, index, demo_teacher)
    return made


def _school_morning(
    actor: Actor, school: School, now: dt.datetime, minutes: int, n: int, demo_teacher: int | None
) -> int:
    zone = ZoneInfo(school.timezone)
    # Begun `minutes` ago, but not before the school's midnight: just after it, a lesson begun
    # "yesterday" would be on yesterday's page of the diary, and the board shows today's.
    midnight = dt.datetime.combine(now.astimezone(zone).date(), dt.time(), tzinfo=zone)
    start = max((now - dt.timedelta(minutes=minutes)).replace(second=0, microsecond=0), midnight)
    end = start + LESSON
    classes_busy, teachers_busy, rooms_busy = _busy(start, end)
    classes = db.session.scalars(
        select(SchoolClass).where(SchoolClass.school_id == school.id).order_by(SchoolClass.name)
    ).all()
    running = _busy(now, now + dt.timedelta(seconds=1))[0] & {c.id for c in classes}
    if len(running) * 2 >= len(classes):
        _timetable_news(actor, school, now, n, teachers_busy, demo_teacher)  # a real morning
        return 0
    day = start.astimezone(zone).date()
    lessons: list[Lesson] = []
    for school_class in classes:
        if school_class.id in classes_busy:
            continue
        assignments = db.session.scalars(
            select(TeachingAssignment)
            .where(
                TeachingAssignment.class_id == school_class.id,
                TeachingAssignment.group_id.is_(None),
            )
            .order_by(TeachingAssignment.id)
        ).all()
        for assignment in assignments:
            room = _usual_room(assignment.id)
            if assignment.teacher_id in teachers_busy or room is None or room in rooms_busy:
                continue
            lesson = add_extra_lesson(
                actor,
                Lesson(
                    school_id=school.id,
                    timetable_entry_id=None,
                    date=day,
                    slot_number=1,
                    starts_at=start,
                    ends_at=end,
                    class_id=school_class.id,
                    group_id=None,
                    subject_id=assignment.subject_id,
                    teacher_id=assignment.teacher_id,
                    room_id=room,
                    status=LessonStatus.PLANNED,
                ),
            )
            teachers_busy.add(assignment.teacher_id)
            rooms_busy.add(room)
            lessons.append(lesson)
            break
    _news(actor, lessons, minutes, n, _free_teacher(school, teachers_busy))
    return len(lessons)


def _timetable_news(
    actor: Actor,
    school: School,
    now: dt.datetime,
    n: int,
    teachers_busy: set[int],
    demo_teacher: int | None,
) -> None:
    """The morning's news for the timetable's lessons under way at `school`, once: not where a
    roll was taken already (an earlier run, or a teacher), nor in the demo teacher's lesson
    (`ediary.demo.now` may have given them one of the timetable's)."""
    lessons = db.session.scalars(
        select(Lesson)
        .where(
            Lesson.school_id == school.id,
            Lesson.teacher_id != demo_teacher,  # theirs is for the person trying the kiosk
            Lesson.status != LessonStatus.CANCELLED,
            Lesson.starts_at <= now,
            Lesson.ends_at > now,
        )
        .order_by(Lesson.class_id, Lesson.id)
    ).all()
    if not lessons:
        return
    taken = db.session.scalar(
        select(Attendance.id).where(Attendance.lesson_id.in_([x.id for x in lessons])).limit(1)
    )
    if taken is not None:
        return
    minutes = int((now - min(x.starts_at for x in lessons)).total_seconds() // 60)
    _news(actor, list(lessons), minutes, n, _free_teacher(school, teachers_busy))


def _free_teacher(school: School, teachers_busy: set[int]) -> int | None:
    return db.session.scalars(
        select(TeachingAssignment.teacher_id)
        .where(
            TeachingAssignment.school_id == school.id,
            TeachingAssignment.teacher_id.not_in(teachers_busy),
        )
        .order_by(TeachingAssignment.teacher_id)
    ).first()


def _news(actor: Actor, lessons: list[Lesson], minutes: int, n: int, free: int | None) -> None:
    """Rolls for most lessons (one pupil in ten absent), a few missing; a cancellation in every
    third school, a substitution by a free teacher in every fourth."""
    if n % 3 == 2 and len(lessons) > 3:
        cancel_lesson(actor, lessons.pop())
    if n % 4 == 1 and len(lessons) > 3 and free is not None:
        substitute(actor, lessons[0], db.session.get_one(User, free))
    missing = 0 if minutes < 5 else 1 + (n % 2)
    for lesson in lessons[: max(0, len(lessons) - missing)]:
        pupils = db.session.scalars(
            select(Pupil.id).where(Pupil.class_id == lesson.class_id, Pupil.active.is_(True))
        ).all()
        states = {p: "nb" for i, p in enumerate(pupils) if i % 10 == n % 10}
        teacher = db.session.get_one(User, lesson.teacher_id)
        submit_roll(Actor(teacher, actor.channel), lesson, states, base=None)
