"""What the writes about a lesson share: its fields in events, and when it takes entries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from ediary.db import db
from ediary.diary.models import Grade, Remark
from ediary.errors import Conflict, Refusal
from ediary.journal.catalogue import LessonFields
from ediary.kiosks.schema import limit
from ediary.schools.models import School
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.queries import entries_open_at

# Stated once in the kiosk protocol's schema (kiosk/protocol.schema.json), for every channel.
MAX_TOPIC = limit("topic")
MAX_REMARK = limit("remark_text")


def lesson_fields(lesson: Lesson) -> LessonFields:
    return {
        "lesson_id": lesson.id,
        "date": lesson.date.isoformat(),
        "slot_number": lesson.slot_number,
        "subject": lesson.subject.name,
    }


def require_open(lesson: Lesson) -> None:
    if lesson.status is LessonStatus.CANCELLED:
        raise Refusal("lesson_cancelled", _l("Ta lekcja została odwołana."))


def require_started(lesson: Lesson, now: dt.datetime) -> None:
    """A teacher's entries (roll, topic, grades, remarks) wait for the lesson to begin, less the
    school's margin: a roll of tomorrow's lesson would mark it held and count absences that
    have not happened.

    The teachers' channels (the web roll form, kiosk submissions) call this before their
    operation. The operations themselves do not: an excuse decision changes attendance that
    was recorded, and an import writes what the school recorded elsewhere.
    """
    opens = entries_open_at(lesson)
    if now >= opens:
        return
    school = db.session.get(School, lesson.school_id)
    zone = ZoneInfo(school.timezone if school is not None else "Europe/Warsaw")
    local, today = opens.astimezone(zone), now.astimezone(zone).date()
    when = f"{local:%H:%M}"
    if local.date() != today:
        when = f"{local.day}.{local.month:02d}.{local.year}, {when}"
    raise Refusal(
        "lesson_not_started",
        _l("Lekcja jeszcze się nie zaczęła. Wpisy do niej można dodawać od %(when)s.", when=when),
        opens_at=opens.isoformat(),
    )


def check_version(row: Grade | Remark, base_version: int | None) -> None:
    if base_version is not None and row.version != base_version:
        raise Conflict(
            "stale_version",
            _l("Ten wpis zmienił się w międzyczasie. Odśwież i spróbuj ponownie."),
            current_version=row.version,
        )
