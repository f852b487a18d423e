"""The parent's pages: today, grades, attendance, remarks, topics and the history of changes.

Every page takes the child's id and loads it through `load_child` (a guardian's own child, else
404). Staff read pupils on the pupil card (`diary.views`); these pages are the parents'.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from ediary.audit.queries import pupil_history
from ediary.diary.values import GRADE_NAMES
from ediary.excuses.access import load_child
from ediary.excuses.queries import requests_of
from ediary.ids import MAX_BIG_ID, id_arg
from ediary.portal.history import excuse_decisions
from ediary.portal.queries import children_of, lessons_on, recent_entries, topics_of
from ediary.realtime.queries import journal_head
from ediary.schools.models import Pupil, Term
from ediary.schools.queries import PupilCard, current_term, pupil_card, school_today, terms_of

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    children = children_of(current_user)
    if children:
        return redirect(url_for("portal.today", pupil_id=children[0].id))
    return render_template("portal/no_children.html", children=[])


def _card(pupil: Pupil) -> PupilCard:
    terms = terms_of(pupil)
    if not terms:
        raise NotFound()
    today = school_today(pupil.school_class.school)
    wanted = id_arg("term")
    term: Term | None = current_term(terms, today) if wanted is None else None
    for candidate in terms:
        if candidate.id == wanted:
            term = candidate
    if term is None:
        raise NotFound()  # a term of another pupil's year looks like a missing page
    return pupil_card(pupil, term, terms)


def _page(template: str, pupil: Pupil, section: str, head: int, **context: object) -> str:
    return render_template(
        template,
        live_head=head,
        pupil=pupil,
        children=children_of(current_user),
        section=section,
        grade_names=GRADE_NAMES,
        **context,
    )


@bp.get("/<int:pupil_id>")
@login_required
def today(pupil_id: int) -> ResponseReturnValue:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    pupil = load_child(current_user, pupil_id)
    day = school_today(pupil.school_class.school)
    card = _card(pupil)
    return _page(
        "portal/today.html",
        pupil,
        "today",
        head,
        day=day,
        lessons=lessons_on(pupil, day),
        recent=recent_entries(pupil, day),
        card=card,
        excuses=[r for r in requests_of(pupil, limit=5) if r.last_date >= day - dt.timedelta(7)],
    )


@bp.get("/<int:pupil_id>/grades")
@login_required
def grades(pupil_id: int) -> ResponseReturnValue:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    pupil = load_child(current_user, pupil_id)
    return _page("portal/grades.html", pupil, "grades", head, card=_card(pupil))


@bp.get("/<int:pupil_id>/attendance")
@login_required
def attendance(pupil_id: int) -> ResponseReturnValue:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    pupil = load_child(current_user, pupil_id)
    return _page("portal/attendance.html", pupil, "attendance", head, card=_card(pupil))


@bp.get("/<int:pupil_id>/remarks")
@login_required
def remarks(pupil_id: int) -> ResponseReturnValue:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    pupil = load_child(current_user, pupil_id)
    return _page("portal/remarks.html", pupil, "remarks", head, card=_card(pupil))


@bp.get("/<int:pupil_id>/topics")
@login_required
def topics(pupil_id: int) -> ResponseReturnValue:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    pupil = load_child(current_user, pupil_id)
    return _page("portal/topics.html", pupil, "topics", head, topics=topics_of(pupil))


@bp.get("/<int:pupil_id>/history")
@login_required
def history(pupil_id: int) -> ResponseReturnValue:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    pupil = load_child(current_user, pupil_id)
    before = id_arg("before", MAX_BIG_ID)
    return _page(
        "portal/history.html",
        pupil,
        "history",
        head,
        page=pupil_history(pupil, before=before),
        decisions=excuse_decisions(pupil) if before is None else [],
    )
