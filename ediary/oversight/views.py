"""The director's oversight pages (issue 14 item 6). Reading only: nothing here writes."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ediary.access import roles
from ediary.db import utcnow
from ediary.oversight.access import load_school
from ediary.oversight.queries import missing_entries
from ediary.web.auth import login_required

bp = Blueprint("oversight", __name__, url_prefix="/oversight")


@bp.app_template_global()
def oversees(school_id: int) -> bool:
    """Whether the signed-in person is the school's director (the school page's link)."""
    user = current_user
    return bool(user.is_authenticated) and roles.is_school_admin(user, school_id)


@bp.get("/schools/<int:school_id>/missing")
@login_required
def missing(school_id: int) -> ResponseReturnValue:
    school = load_school(current_user, school_id)
    return render_template(
        "oversight/missing.html", school=school, missing=missing_entries(school, utcnow())
    )
