"""The rollover wizard: the dry run per class and pupil, the repeaters ticked, then apply."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from ediary.audit.recording import Actor
from ediary.errors import Conflict, Refusal
from ediary.ids import form_ids
from ediary.office.rollover.operations import RolloverResult, roll_over
from ediary.office.rollover.plan import (
    GRADUATES,
    PROMOTED,
    REPEATS,
    RolloverPlan,
    make_rollover_plan,
)
from ediary.schools.access import load_school
from ediary.schools.models import School
from ediary.schools.queries import school_today
from ediary.web.auth import login_required
from ediary.web.pages import perform


def _(message: str, /, **values: Any) -> str:
    return str(gettext(message, **values))


bp = Blueprint("rollover", __name__, url_prefix="/office")


def _page(plan: RolloverPlan, repeaters: set[int], refusal: Refusal | None = None) -> str:
    return render_template(
        "office/rollover/wizard.html",
        plan=plan,
        repeaters=repeaters,
        refusal=refusal,
        actions={PROMOTED: _("promocja"), REPEATS: _("powtarza klasę"), GRADUATES: _("absolwent")},
    )


def _term_two() -> dt.date | None:
    raw = request.form.get("term_two_on", "")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Refusal("date_invalid", _("Nieprawidłowa data początku drugiego okresu.")) from None


@bp.route("/schools/<int:school_id>/rollover", methods=["GET", "POST"])
@login_required
def wizard(school_id: int) -> ResponseReturnValue:
    school = load_school(current_user, school_id)
    today = school_today(school)
    if request.method == "GET":
        return _page(make_rollover_plan(school, today, set()), set())
    repeaters = set(form_ids("repeat"))
    try:
        term_two = _term_two()
    except Refusal as refusal:
        return _page(make_rollover_plan(school, today, repeaters), repeaters, refusal), 400
    plan = make_rollover_plan(school, today, repeaters, term_two)
    if request.form.get("action") != "apply":
        return _page(plan, repeaters)  # the dry run: nothing written
    seen = request.form.get("version", "")

    def apply(actor: Actor) -> RolloverResult:
        fresh = _fresh(school, today, repeaters, term_two)
        if fresh.refusal is None and fresh.version != seen:
            raise Conflict(
                "rollover_changed",
                _("Klasy lub uczniowie zmienili się od próby. Sprawdź próbę jeszcze raz."),
            )
        return roll_over(actor, fresh)

    return perform(
        apply,
        to=url_for("rollover.wizard", school_id=school.id),
        message=lambda r: _message(r),
        refused=lambda refusal: _page(
            _fresh(school, today, repeaters, term_two), repeaters, refusal
        ),
    )


def _fresh(
    school: School, today: dt.date, repeaters: set[int], term_two: dt.date | None
) -> RolloverPlan:
    """The plan again, inside the transaction (perform may run the operation more than once)."""
    return make_rollover_plan(school, today, repeaters, term_two)


def _message(result: RolloverResult) -> str:
    return _(
        "Rok szkolny %(name)s przygotowany: %(promoted)s uczniów w wyższych klasach, "
        "%(repeating)s powtarza klasę, %(graduated)s absolwentów. Poprzedni rok jest zamknięty.",
        name=result.year.name,
        promoted=result.promoted,
        repeating=result.repeating,
        graduated=result.graduated,
    )
