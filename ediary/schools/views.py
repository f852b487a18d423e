"""Pages about a class, a school (its office) and a gmina (aggregates only)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ediary.people.models import Role
from ediary.people.queries import today
from ediary.schools.access import load_class, load_district, load_school
from ediary.schools.queries import class_overview, district_figures, school_overview, school_today
from ediary.web.auth import login_required

bp = Blueprint("schools", __name__)

ROLE_NAMES = {
    Role.TEACHER: _l("nauczyciele"),
    Role.SECRETARY: _l("sekretariat"),
    Role.SCHOOL_ADMIN: _l("administratorzy szkoły"),
    Role.DISTRICT_ADMIN: _l("administratorzy gminy"),
}


@bp.get("/classes/<int:class_id>")
@login_required
def school_class(class_id: int) -> ResponseReturnValue:
    found = load_class(current_user, class_id)
    return render_template("schools/class.html", overview=class_overview(found))


@bp.get("/schools/<int:school_id>")
@login_required
def school(school_id: int) -> ResponseReturnValue:
    found = load_school(current_user, school_id)
    overview = school_overview(found, school_today(found))
    return render_template("schools/school.html", overview=overview, role_names=ROLE_NAMES)


@bp.get("/districts/<int:district_id>")
@login_required
def district(district_id: int) -> ResponseReturnValue:
    found = load_district(current_user, district_id)
    figures = district_figures(found, today())
    return render_template("schools/district.html", district=found, figures=figures)
