"""The director's timetable console (issue 14 item 2): bells, subjects, rooms, assignments, the
weekly grid per class, teacher and room with its cell editor, applying the plan from a date, and
the aSc XML / CSV import. Each page's routes are in a module of this package; the school
administrator edits, the secretary may look (ediary/timetable/access.py, `load_plan`)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, request
from flask_babel import gettext

from ediary.errors import Refusal
from ediary.schools.models import School
from ediary.schools.queries import school_today

bp = Blueprint("plan", __name__)


def _(message: str, **values: object) -> str:
    """Flask-Babel's gettext, typed (the library has no annotations)."""
    return str(gettext(message, **values))


def date_field(school: School, name: str = "from_date") -> dt.date:
    """A date the form sends (ISO, as `<input type=date>` does); empty: the school's today."""
    raw = (request.values.get(name) or "").strip()
    if not raw:
        return school_today(school)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Refusal("date_invalid", _("Nieprawidłowa data.")) from None


from ediary.timetable.pages import grid, imports, setup, substitutions  # noqa: E402, F401 - their routes
