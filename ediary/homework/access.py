"""Loaders (404 outside the actor's scope): the teacher's own lessons and announcements."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.homework.models import Homework
from ediary.ids import parse_id
from ediary.people.models import Role, User
from ediary.timetable.models import Lesson


def load_own_lesson(user: User, lesson_id: int | str | None) -> Lesson:
    """A lesson the teacher teaches (a substitute's, after a substitution), not cancelled."""
    found_id = lesson_id if isinstance(lesson_id, int) else parse_id(lesson_id or "")
    lesson = db.session.get(Lesson, found_id) if found_id else None
    if lesson is None or not roles.can_record_in_lesson(user, lesson):
        raise NotFound()
    return lesson


def load_target_lesson(user: User, lesson: Lesson, raw: str | None) -> Lesson:
    """The lesson a form names for the announcement: the teacher's, of the same class, group and
    subject as the page's lesson; any other id (another class's, a foreign one) is 404."""
    target = load_own_lesson(user, raw)
    if (target.class_id, target.group_id, target.subject_id) != (
        lesson.class_id,
        lesson.group_id,
        lesson.subject_id,
    ):
        raise NotFound()
    return target


def load_own_homework(user: User, homework_id: int) -> Homework:
    """An announcement of this teacher's, in a school where they still teach."""
    homework = db.session.get(Homework, homework_id)
    if (
        homework is None
        or homework.teacher_id != user.id
        or not roles.has_school_role(user, homework.school_id, Role.TEACHER)
    ):
        raise NotFound()
    return homework
