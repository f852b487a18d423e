"""The parent's week (`/portal/<child>/week?week=RRRR-MM-DD`): the child's lessons Monday to
Friday with substitutions, cancellations and the tests and homework announced. A section of the
portal (`ediary.portal.views.CHILD_PAGES`): the child is loaded there, a guardian's own or 404."""

from __future__ import annotations

import datetime as dt

from flask import request
from werkzeug.exceptions import NotFound

from ediary.homework.forms import KIND_NAMES
from ediary.homework.queries import groups_of, teacher_names, week_of_pupil
from ediary.schools.models import Pupil
from ediary.schools.queries import school_today


def week_page(pupil: Pupil) -> dict[str, object]:
    today = school_today(pupil.school_class.school)
    raw = request.args.get("week")
    try:
        day = dt.date.fromisoformat(raw) if raw else today
    except ValueError:
        raise NotFound() from None
    if abs((day - today).days) > 400:
        raise NotFound()  # a year back or ahead at most: no crawling of far dates
    monday = day - dt.timedelta(days=day.weekday())
    days = week_of_pupil(pupil, monday)
    lessons = [item.lesson for d in days for item in d.lessons]
    ids = {lesson.teacher_id for lesson in lessons if lesson.substitute_for_id}
    return {
        "days": days,
        "today": today,
        "monday": monday,
        "previous": monday - dt.timedelta(days=7),
        "following": monday + dt.timedelta(days=7),
        "substitutes": teacher_names(ids),
        "kind_names": KIND_NAMES,
        "groups": groups_of(pupil),
    }
