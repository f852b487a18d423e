"""Lesson loaders for reading, recording and cancelling (404 outside the actor's scope)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.ids import parse_id
from ediary.people.models import User
from ediary.schools.models import School
from ediary.timetable.models import Lesson

T = TypeVar("T")


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


def load_plan(user: User, school_id: int, *, edit: bool = False) -> School:
    """The school's timetable console: its administrator edits, the secretary may look; anyone
    else (another school's staff, the gmina, teachers, parents) finds no such page."""
    school = db.session.get(School, school_id)
    allowed = roles.is_school_admin if edit else roles.manages_register
    if school is None or not allowed(user, school.id):
        raise NotFound()
    return school


def in_school(model: type[T], school: School, raw: str | int | None) -> T:
    """A row of this school by the id a form or URL names, else 404 (never another school's)."""
    object_id = raw if isinstance(raw, int) else parse_id(raw or "")
    found = db.session.get(model, object_id) if object_id else None
    if found is None or getattr(found, "school_id", None) != school.id:
        raise NotFound()
    return found
