"""The parent's pages: today, grades, attendance, remarks, topics and the history of changes.

Every page takes the child's id and loads it through `load_child` (a guardian's own child, else
404); the sections are one table (`CHILD_PAGES`) served by one view. Staff read pupils on the
pupil card (`diary.views`); these pages are the parents'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.audit.queries import pupil_history
from ediary.diary.values import GRADE_NAMES
from ediary.excuses.access import load_child
from ediary.excuses.queries import requests_of
from ediary.homework.week import week_page
from ediary.ids import MAX_BIG_ID, id_arg
from ediary.portal.history import excuse_decisions
from ediary.portal.queries import children_of, lessons_on, recent_entries, topics_of
from ediary.privacy.views_log import views_of
from ediary.realtime.queries import journal_head
from ediary.schools.models import Pupil, Term
from ediary.schools.queries import PupilCard, current_term, pupil_card, school_today, terms_of
from ediary.schools.views import ROLE_NAMES
from ediary.web.auth import login_required

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


def _today(pupil: Pupil) -> dict[str, object]:
    day = school_today(pupil.school_class.school)
    return {
        "day": day,
        "lessons": lessons_on(pupil, day),
        "recent": recent_entries(pupil, day),
        "card": _card(pupil),
        "excuses": [r for r in requests_of(pupil, limit=5) if r.last_date >= day - dt.timedelta(7)],
    }


def _history(pupil: Pupil) -> dict[str, object]:
    before = id_arg("before", MAX_BIG_ID)
    return {
        "page": pupil_history(pupil, before=before),
        "decisions": excuse_decisions(pupil) if before is None else [],
    }


class ChildPage(NamedTuple):
    """A section of a child's pages: its path after /portal/<id>, and what its template
    (portal/<section>.html) shows of the child."""

    path: str
    content: Callable[[Pupil], dict[str, object]]


# One registration and one view for every section: the pages differ only in what they show.
CHILD_PAGES: dict[str, ChildPage] = {
    "today": ChildPage("", _today),
    "week": ChildPage("/week", week_page),
    "grades": ChildPage("/grades", lambda pupil: {"card": _card(pupil)}),
    "attendance": ChildPage("/attendance", lambda pupil: {"card": _card(pupil)}),
    "remarks": ChildPage("/remarks", lambda pupil: {"card": _card(pupil)}),
    "topics": ChildPage("/topics", lambda pupil: {"topics": topics_of(pupil)}),
    "history": ChildPage("/history", _history),
    "views": ChildPage(
        "/views", lambda pupil: {"views": views_of(pupil), "role_names": ROLE_NAMES}
    ),
}


@login_required
def child_page(pupil_id: int, section: str) -> ResponseReturnValue:
    head = journal_head()  # before the page's queries (docs/protocol.md)
    pupil = load_child(current_user, pupil_id)
    return render_template(
        f"portal/{section}.html",
        live_head=head,
        pupil=pupil,
        children=children_of(current_user),
        section=section,
        grade_names=GRADE_NAMES,
        **CHILD_PAGES[section].content(pupil),
    )


for _section, _page in CHILD_PAGES.items():
    bp.add_url_rule(
        f"/<int:pupil_id>{_page.path}",
        endpoint=_section,
        view_func=child_page,
        methods=["GET"],
        defaults={"section": _section},
    )
