"""The director's oversight pages (issue 14 item 6). Reading only: nothing here writes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import utcnow
from ediary.documents.tables import Table, table_response
from ediary.oversight import history
from ediary.oversight.access import load_school, load_school_figures
from ediary.oversight.queries import missing_entries
from ediary.oversight.stats import attendance_bars, school_figures
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


@bp.get("/schools/<int:school_id>/history")
@login_required
def school_history(school_id: int) -> ResponseReturnValue:
    school = load_school(current_user, school_id)
    filters = history.read_filters(school)
    before = history.before_arg()
    rows, next_before = ([], None) if filters.errors else history.page(school, filters, before)
    page = render_template(
        "oversight/history.html",
        school=school,
        filters=filters,
        choices=history.choices(school, filters),
        rows=rows,
        next_before=next_before,
    )
    return page, 400 if filters.errors else 200


@bp.get("/schools/<int:school_id>/history.<fmt>")
@login_required
def school_history_export(school_id: int, fmt: str) -> ResponseReturnValue:
    school = load_school(current_user, school_id)
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    filters = history.read_filters(school)
    if filters.errors:
        return school_history(school_id)
    table = Table(
        title=_("Historia zmian"),
        headers=[
            _("Nr"),
            _("Kiedy"),
            _("Kto"),
            _("Kanał"),
            _("Komputer w sali"),
            _("Obiekt"),
            _("Nr obiektu"),
            _("Czynność"),
            _("Pola"),
        ],
    )
    for row in history.export_rows(school, filters):
        table.rows.append(
            [
                row.id,
                row.at,
                row.who,
                str(row.channel),
                row.kiosk_id,
                str(row.entity),
                row.entity_id,
                str(row.action),
                row.fields,
            ]
        )
    return table_response(table, "csv" if fmt == "csv" else "xlsx", f"historia-{school.id}")


@bp.get("/schools/<int:school_id>/figures")
@login_required
def figures(school_id: int) -> ResponseReturnValue:
    school, with_names = load_school_figures(current_user, school_id)
    today = utcnow().astimezone(ZoneInfo(school.timezone)).date()
    found = school_figures(school, today, with_names=with_names)
    return render_template(
        "oversight/figures.html",
        school=school,
        figures=found,
        bars=attendance_bars(found),
        with_names=with_names,
    )
