"""A pupil's card (grades, averages, attendance, remarks, topics) and their change history."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.audit.queries import pupil_history
from ediary.diary.values import GRADE_NAMES
from ediary.ids import MAX_BIG_ID, id_arg
from ediary.privacy.models import Viewed
from ediary.privacy.views_log import note_view
from ediary.schools.access import load_pupil
from ediary.schools.models import Term
from ediary.schools.queries import current_term, pupil_card, school_today, terms_of
from ediary.web.auth import login_required

bp = Blueprint("diary", __name__)


@bp.get("/pupils/<int:pupil_id>")
@login_required
def pupil(pupil_id: int) -> ResponseReturnValue:
    found = load_pupil(current_user, pupil_id)
    terms = terms_of(found)
    card = pupil_card(found, _chosen_term(terms, school_today(found.school_class.school)), terms)
    page = render_template("diary/pupil.html", card=card, grade_names=GRADE_NAMES)
    note_view(current_user, found, Viewed.CARD)  # after the page: a refused card is no view
    return page


@bp.get("/pupils/<int:pupil_id>/history")
@login_required
def history(pupil_id: int) -> ResponseReturnValue:
    found = load_pupil(current_user, pupil_id)
    page = pupil_history(found, before=id_arg("before", MAX_BIG_ID))
    shown = render_template("diary/history.html", pupil=found, page=page)
    note_view(current_user, found, Viewed.HISTORY)
    return shown


def _chosen_term(terms: list[Term], today: dt.date) -> Term:
    """`?term=<id>` picks another term of the pupil's year; any other id is a missing page."""
    if not terms:
        raise NotFound()
    wanted = id_arg("term")
    if wanted is None:
        return current_term(terms, today)
    for term in terms:
        if term.id == wanted:
            return term
    raise NotFound()
