"""The page "Zasady oceniania (statut)": the school administrator edits the statute's rules of a
school year (the current one unless another is chosen; a closed year is shown read-only), sees
which averages of that year a change would move, and saves it (README.md, "Adding a page")."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.audit.recording import Actor
from ediary.db import db
from ediary.diary.models import AttendanceType, GradeCategory, Presence
from ediary.diary.queries import attendance_types
from ediary.errors import Conflict, Refusal
from ediary.gradingrules.operations import change_grading_rules, refuse_closed
from ediary.gradingrules.preview import Preview, averages_moved
from ediary.gradingrules.queries import FIELD_NAMES, rules_history
from ediary.gradingrules.rules import read_rules
from ediary.gradingrules.years import rules_for_year
from ediary.people.models import User
from ediary.people.queries import today
from ediary.schools.models import ImprovementPolicy, School, SchoolYear
from ediary.schools.queries import year_of
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("gradingrules", __name__)

MAX_ID = 2**63 - 1


def load_rules(user: User, school_id: int) -> School:
    """The school's administrator keeps its statute's rules; anyone else finds no such page."""
    school = db.session.get(School, school_id)
    if school is None or not roles.is_school_admin(user, school.id):
        raise NotFound()
    return school


def _year(school: School, sent: str | None) -> SchoolYear | None:
    """The chosen year of this school (404 for another school's, or a number past any id), or
    by default the year in force today (in the summer, the latest that started)."""
    if sent:
        if not sent.isdigit() or int(sent) > MAX_ID:
            raise NotFound()
        year = db.session.get(SchoolYear, int(sent))
        if year is None or year.school_id != school.id:
            raise NotFound()
        return year
    return year_of(school.id, today()) or db.session.scalar(
        select(SchoolYear)
        .where(SchoolYear.school_id == school.id)
        .order_by(SchoolYear.starts_on)
        .limit(1)
    )


def _years(school: School) -> list[SchoolYear]:
    query = select(SchoolYear).where(SchoolYear.school_id == school.id)
    return list(db.session.scalars(query.order_by(SchoolYear.starts_on.desc())))


def _categories(school: School) -> list[GradeCategory]:
    query = select(GradeCategory).where(GradeCategory.school_id == school.id)
    return list(db.session.scalars(query.order_by(GradeCategory.id)))


def _page(
    school: School,
    year: SchoolYear | None,
    typed: Mapping[str, str] | None = None,
    preview: Preview | None = None,
    refusal: Refusal | None = None,
) -> str:
    return render_template(
        "gradingrules/page.html",
        school=school,
        year=year,
        years=_years(school),
        current=rules_for_year(year) if year is not None else None,
        categories=_categories(school),
        types=list(attendance_types(school.id).values()),
        typed=typed,
        preview=preview,
        refusal=refusal,
        history=rules_history(school, year) if year is not None else [],
        field_names=FIELD_NAMES,
        policies=[
            (ImprovementPolicy.BOTH, _("liczą się obie oceny")),
            (ImprovementPolicy.LATEST, _("liczy się tylko poprawa")),
            (ImprovementPolicy.BETTER, _("liczy się lepsza z dwóch")),
        ],
        presences=[(Presence.PRESENT, _("obecność")), (Presence.ABSENT, _("nieobecność"))],
    )


@bp.get("/schools/<int:school_id>/grading-rules")
@login_required
def rules_page(school_id: int) -> ResponseReturnValue:
    school = load_rules(current_user, school_id)
    return _page(school, _year(school, request.args.get("year")))


@bp.post("/schools/<int:school_id>/grading-rules")
@login_required
def save(school_id: int) -> ResponseReturnValue:
    """ "Pokaż zmiany" shows the averages that would move (nothing written); "Zapisz" saves."""
    school = load_rules(current_user, school_id)
    typed = request.form.to_dict()
    year = _year(school, typed.get("year"))
    if year is None:
        raise NotFound()
    year_id = year.id
    categories = _categories(school)
    types: list[AttendanceType] = list(attendance_types(school.id).values())

    def again() -> tuple[School, SchoolYear]:
        reloaded = load_rules(current_user, school_id)
        found = db.session.get(SchoolYear, year_id)
        assert found is not None
        return reloaded, found

    if typed.get("action") != "save":
        try:
            refuse_closed(year)
            rules = read_rules(typed, categories, types)
        except Refusal as refusal:
            return _page(school, year, typed, refusal=refusal), refusal.status
        preview = averages_moved(school, year, rules)
        db.session.rollback()  # a read only
        return _page(*again(), typed, preview=preview)

    def change(actor: Actor) -> object:
        rules = read_rules(typed, categories, types)
        return change_grading_rules(
            actor,
            school,
            rules,
            categories,
            types,
            base_version=_version(typed.get("version")),
            year=year,
            today=today(),
        )

    def refused(refusal: Refusal) -> str:
        if isinstance(refusal, Conflict):  # shown the newer version: a second save may go on
            typed.pop("version", None)
        return _page(*again(), typed, refusal=refusal)

    return perform(
        change,
        to=url_for(".rules_page", school_id=school.id, year=year.id),
        message=_(
            "Zasady oceniania zapisane. Oceny zostały bez zmian; średnie liczą się po nowemu."
        ),
        refused=refused,
    )


def _version(sent: str | None) -> int:
    try:
        return int(sent or "")
    except ValueError:
        return -1  # no version: never equal, so a Conflict, never a blind write
