"""The gmina's pages: the 8:15 board (live) and the figures across schools. Aggregates only."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.db import utcnow
from ediary.district.board import board
from ediary.district.charts import bars, trend
from ediary.district.figures import MIN_GROUP, Figures, figures
from ediary.documents.tables import Table, table_response
from ediary.errors import Refusal
from ediary.people.queries import today
from ediary.schools.access import load_district
from ediary.web.auth import login_required

bp = Blueprint("district", __name__)

REFRESH_SECONDS = 60  # the board reads itself again at least this often (bells, kiosks going quiet)


@bp.get("/districts/<int:district_id>/board")
@login_required
def board_page(district_id: int) -> ResponseReturnValue:
    found = load_district(current_user, district_id)
    return render_template(
        "district/board.html", board=board(found, utcnow()), refresh=REFRESH_SECONDS
    )


@bp.get("/districts/<int:district_id>/board/table")
@login_required
def board_table(district_id: int) -> ResponseReturnValue:
    """The board's figures alone: what the page's script puts in place of the old ones."""
    found = load_district(current_user, district_id)
    return render_template("district/_board.html", board=board(found, utcnow()))


# --- figures across schools ---------------------------------------------------------------------

MAX_PERIOD = dt.timedelta(days=400)
TABLES = ("schools", "averages")


def _period() -> tuple[dt.date, dt.date, Refusal | None]:
    """The period asked for in the query string (default: the last 30 days)."""
    until, since = today(), today() - dt.timedelta(days=29)
    try:
        if request.args.get("until"):
            until = dt.date.fromisoformat(request.args["until"])
        if request.args.get("since"):
            since = dt.date.fromisoformat(request.args["since"])
    except ValueError:
        refusal = Refusal("date", _("Podaj daty w postaci RRRR-MM-DD."))
        return today() - dt.timedelta(days=29), today(), refusal
    if since > until:
        return until, until, Refusal("order", _("Początek okresu jest po jego końcu."))
    if until - since > MAX_PERIOD:
        return until - MAX_PERIOD, until, Refusal("long", _("Najdłuższy okres to 400 dni."))
    return since, until, None


@bp.get("/districts/<int:district_id>/figures")
@login_required
def figures_page(district_id: int) -> ResponseReturnValue:
    found = load_district(current_user, district_id)
    since, until, refusal = _period()
    data = figures(found, since, until)
    names = {s.school_id: s.name for s in data.schools}
    week_labels = [w.strftime("%d.%m") for w in data.weeks]
    comma = get_locale() is None or get_locale().language != "en"
    charts = {
        "trend": trend(
            _("Oceny i wpisy tygodniowo"),
            week_labels,
            [
                (_("oceny"), [data.grades_by_week[w] for w in data.weeks]),
                (_("wszystkie wpisy"), [data.entries_by_week[w] for w in data.weeks]),
            ],
        ),
        "attendance": bars(
            _("Frekwencja w szkołach"),
            [(s.name, s.attendance_percent) for s in data.schools],
            comma=comma,
        ),
        "activated": bars(
            _("Aktywne konta rodziców"),
            [(s.name, s.activated_percent) for s in data.schools],
            comma=comma,
        ),
    }
    page = render_template(
        "district/figures.html",
        data=data,
        names=names,
        charts=charts,
        refusal=refusal,
        min_group=MIN_GROUP,
        since=request.args.get("since", since.isoformat()),
        until=request.args.get("until", until.isoformat()),
    )
    return (page, 400) if refusal is not None else page


@bp.get("/districts/<int:district_id>/figures/<name>.<fmt>")
@login_required
def figures_export(district_id: int, name: str, fmt: str) -> ResponseReturnValue:
    found = load_district(current_user, district_id)
    if name not in TABLES or fmt not in ("csv", "xlsx"):
        raise NotFound()
    since, until, refusal = _period()
    if refusal is not None:
        raise refusal
    data = figures(found, since, until)
    table = schools_table(data) if name == "schools" else averages_table(data)
    return table_response(
        table, "csv" if fmt == "csv" else "xlsx", f"{table.title} {since}–{until}"
    )


def schools_table(data: Figures) -> Table:
    table = Table(
        _("Szkoły"),
        [
            _("Szkoła"),
            _("Frekwencja %"),
            _("Nieobecności nieusprawiedliwione"),
            _("Oceny"),
            _("Wpisy"),
            _("E-maile"),
            _("SMS-y"),
            _("Koszt SMS-ów (zł)"),
            _("Konta rodziców aktywne %"),
        ],
    )
    for s in data.schools:
        table.rows.append(
            [
                s.name,
                s.attendance_percent,
                s.unexcused_shown,
                s.grades,
                s.entries,
                s.emails,
                s.sms,
                data.school_sms_cost(s),
                s.activated_percent,
            ]
        )
    return table


def averages_table(data: Figures) -> Table:
    names = {s.school_id: s.name for s in data.schools}
    table = Table(
        _("Średnie"),
        [_("Szkoła"), _("Poziom klasy"), _("Przedmiot"), _("Liczba ocen"), _("Średnia")],
    )
    for cell in data.averages:
        table.rows.append(
            [
                names[cell.school_id],
                cell.grade_level,
                cell.subject,
                None if cell.suppressed else cell.grades,
                cell.mean,
            ]
        )
    return table
