"""Lesson loaders for reading, recording and cancelling (404 outside the actor's scope)."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.people.models import User
from ediary.timetable.models import Lesson


def _lesson(lesson_id: int, may: Callable[[Lesson], bool]) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or not may(lesson):
        raise NotFound()
    return lesson


def load_lesson(user: User, lesson_id: int) -> Lesson:
    return _lesson(lesson_id, lambda lesson: roles.can_read_lesson(user, lesson))


def load_lesson_for_recording(user: User, lesson_id: int) -> Lesson:
    return _lesson(lesson_id, lambda lesson: roles.can_record_in_lesson(user, lesson))


def load_lesson_for_cancelling(user: User, lesson_id: int) -> Lesson:
    """The school's administrator plans the timetable (DESIGN.md), so they cancel its lessons;
    anyone else finds no such page, even one who may read the lesson."""
    return _lesson(lesson_id, lambda lesson: roles.is_school_admin(user, lesson.school_id))
