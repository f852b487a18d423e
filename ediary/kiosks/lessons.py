"""`/kiosk` events, the lessons: the lock screen's day, the teacher's lessons, a lesson's sheet.

A section of the namespace in sockets.py (the one registration point): each handler gets the
device, read again, and the event's data, validated against the protocol's schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import session
from flask_socketio import join_room, leave_room
from sqlalchemy.exc import IntegrityError

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.kiosks.access import load_kiosk_lesson, load_teacher_session
from ediary.kiosks.models import Kiosk
from ediary.kiosks.queries import (
    lesson_brief,
    lesson_sheet,
    room_lessons,
    school_of,
    school_today,
    teacher_day,
)
from ediary.realtime.rooms import lesson_room
from ediary.timetable.operations import ensure_lessons

_FOLLOWED = "kiosk_lesson"  # the lesson whose room this socket is in


def follow(lesson_id: int | None) -> None:
    """Moves this socket to the room of the lesson its screen shows (or out of any): the relay
    pushes the lesson's roll and topic changes made elsewhere there (docs/protocol.md)."""
    previous = session.get(_FOLLOWED)
    if previous == lesson_id:
        return
    if previous is not None:
        leave_room(lesson_room(previous))
    if lesson_id is not None:
        join_room(lesson_room(lesson_id))
    session[_FOLLOWED] = lesson_id


def ensure_today(kiosk: Kiosk, now: dt.datetime) -> None:
    """Makes today's lessons from the weekly timetable if nobody has yet (idempotent)."""
    school = school_of(kiosk)
    try:
        with db.session.begin_nested():
            ensure_lessons(Actor(None, Channel.KIOSK, kiosk.id), school, school_today(school, now))
    except IntegrityError:
        pass  # another kiosk of the school made them at the same moment: they exist now


def room(kiosk: Kiosk, _data: dict[str, Any]) -> dict[str, Any]:
    """The lock screen: the room, the school, the room's lessons today."""
    now = utcnow()
    ensure_today(kiosk, now)
    db.session.commit()
    school = school_of(kiosk)
    today = school_today(school, now)
    return {
        "ok": True,
        "kiosk": {"id": kiosk.id, "name": kiosk.name},
        "room": {"id": kiosk.room.id, "name": kiosk.room.name},
        "school": {"id": school.id, "name": school.name, "short_name": school.short_name},
        "today": today.isoformat(),
        "now": now.isoformat(),
        "lessons": [
            lesson_brief(lesson, kiosk, with_teacher=True) for lesson in room_lessons(kiosk, today)
        ],
    }


def lessons(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    _row, teacher = load_teacher_session(kiosk, data["session"], now)
    ensure_today(kiosk, now)
    db.session.commit()
    return {"ok": True, **teacher_day(kiosk, teacher, now)}


def roster(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    """A lesson's sheet; the socket follows the lesson (not with `follow: false`: a sheet read
    ahead for work without the server keeps the socket where it is)."""
    row, teacher = load_teacher_session(kiosk, data["session"], utcnow())
    lesson = load_kiosk_lesson(kiosk, row, data["lesson_id"])
    sheet = lesson_sheet(lesson, teacher)
    if data.get("follow", True):
        follow(lesson.id)
    return {"ok": True, **sheet}
