"""The schools of the gmina: add a school, its rooms and kiosk records, its calendar (days off),
and the gmina's price of an SMS. Each form runs one operation through `perform`; a refusal shows
the same form again with what was typed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ediary.db import db
from ediary.district.access import load_gmina_school
from ediary.district.operations import (
    add_days_off,
    add_kiosk,
    add_room,
    add_school,
    remove_day_off,
    set_sms_cost,
)
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.kiosks.models import Kiosk
from ediary.people.queries import today
from ediary.schools.access import load_district
from ediary.schools.calendar import days_off
from ediary.schools.models import DayOff, District, Room, School, SchoolYear
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("gmina_schools", __name__)


def _date(name: str, label: str) -> dt.date:
    raw = request.form.get(name, "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Refusal("date", _("Podaj datę: %(label)s.", label=label)) from None


def _counts(query: Any) -> dict[int, int]:
    return {int(key): int(n) for key, n in db.session.execute(query)}


def _schools_page(district: District, refusal: Refusal | None = None) -> str:
    ids = [s.id for s in district.schools]
    rooms = _counts(
        select(Room.school_id, func.count()).where(Room.school_id.in_(ids)).group_by(Room.school_id)
    )
    kiosks = _counts(
        select(Kiosk.school_id, func.count())
        .where(Kiosk.school_id.in_(ids))
        .group_by(Kiosk.school_id)
    )
    return render_template(
        "district/schools.html",
        district=district,
        schools=district.schools,
        rooms=rooms,
        kiosks=kiosks,
        form=request.form if request.method == "POST" else {},
        refusal=refusal,
    )


@bp.get("/districts/<int:district_id>/schools")
@login_required
def schools(district_id: int) -> ResponseReturnValue:
    return _schools_page(load_district(current_user, district_id))


@bp.post("/districts/<int:district_id>/schools")
@login_required
def new_school(district_id: int) -> ResponseReturnValue:
    district = load_district(current_user, district_id)

    def run(actor: Any) -> School:
        year = None
        if request.form.get("starts_on") or request.form.get("ends_on"):
            year = (
                _date("starts_on", _("pierwszy dzień roku szkolnego")),
                _date("term_two_on", _("pierwszy dzień drugiego okresu")),
                _date("ends_on", _("ostatni dzień roku szkolnego")),
            )
        return add_school(
            actor,
            district,
            request.form.get("name", ""),
            request.form.get("short_name", ""),
            year,
        )

    return perform(
        run,
        to=url_for(".schools", district_id=district.id),
        message=lambda school: _("Dodano szkołę: %(name)s.", name=school.name),
        refused=lambda refusal: _schools_page(load_district(current_user, district_id), refusal),
    )


@bp.post("/districts/<int:district_id>/sms-cost")
@login_required
def sms_cost(district_id: int) -> ResponseReturnValue:
    district = load_district(current_user, district_id)

    def run(actor: Any) -> District:
        grosze = parse_id(request.form.get("sms_cost_grosze", "").strip())
        if grosze is None and request.form.get("sms_cost_grosze", "").strip() != "0":
            raise Refusal("sms_cost", _("Koszt SMS-a: od 0 do 1000 groszy."))
        return set_sms_cost(actor, district, grosze or 0)

    return perform(
        run,
        to=url_for(".schools", district_id=district.id),
        message=_("Zapisano koszt SMS-a."),
        refused=lambda refusal: _schools_page(load_district(current_user, district_id), refusal),
    )


def _school_page(school: School, refusal: Refusal | None = None, part: str = "") -> str:
    rooms = db.session.scalars(
        select(Room).where(Room.school_id == school.id).order_by(Room.name)
    ).all()
    kiosks = db.session.scalars(
        select(Kiosk).where(Kiosk.school_id == school.id).order_by(Kiosk.name)
    ).all()
    years = db.session.scalars(
        select(SchoolYear)
        .where(SchoolYear.school_id == school.id)
        .order_by(SchoolYear.starts_on.desc())
    ).all()
    now = today()
    since = years[0].starts_on if years else now - dt.timedelta(days=30)
    until = years[0].ends_on if years else now + dt.timedelta(days=365)
    return render_template(
        "district/school.html",
        school=school,
        rooms=rooms,
        kiosks=kiosks,
        free_rooms=[r for r in rooms if r.id not in {k.room_id for k in kiosks}],
        years=years,
        days_off=days_off(school, since, until),
        form=request.form if request.method == "POST" else {},
        refusal=refusal,
        part=part,
    )


@bp.get("/gmina/schools/<int:school_id>")
@login_required
def school(school_id: int) -> ResponseReturnValue:
    return _school_page(load_gmina_school(current_user, school_id))


def _refused_on(school_id: int, part: str) -> Any:
    return lambda refusal: _school_page(load_gmina_school(current_user, school_id), refusal, part)


@bp.post("/gmina/schools/<int:school_id>/rooms")
@login_required
def new_room(school_id: int) -> ResponseReturnValue:
    found = load_gmina_school(current_user, school_id)
    return perform(
        lambda actor: add_room(actor, found, request.form.get("name", "")),
        to=url_for(".school", school_id=found.id) + "#rooms",
        message=lambda room: _("Dodano salę %(name)s.", name=room.name),
        refused=_refused_on(school_id, "rooms"),
    )


@bp.post("/gmina/schools/<int:school_id>/kiosks")
@login_required
def new_kiosk(school_id: int) -> ResponseReturnValue:
    found = load_gmina_school(current_user, school_id)

    def run(actor: Any) -> Kiosk:
        room_id = parse_id(request.form.get("room_id", ""))
        room = db.session.get(Room, room_id) if room_id is not None else None
        if room is None or room.school_id != found.id:
            raise Refusal("room", _("Wybierz salę tej szkoły."))
        return add_kiosk(actor, room, request.form.get("name", ""))

    return perform(
        run,
        to=url_for(".school", school_id=found.id) + "#kiosks",
        message=_("Dodano komputer. Dyrektor szkoły wyda mu kod rejestracji."),
        refused=_refused_on(school_id, "kiosks"),
    )


@bp.post("/gmina/schools/<int:school_id>/days-off")
@login_required
def new_days_off(school_id: int) -> ResponseReturnValue:
    found = load_gmina_school(current_user, school_id)

    def run(actor: Any) -> list[DayOff]:
        first = _date("first", _("pierwszy dzień wolny"))
        last = _date("last", _("ostatni dzień wolny")) if request.form.get("last") else first
        return add_days_off(actor, found, first, last, request.form.get("reason", ""))

    return perform(
        run,
        to=url_for(".school", school_id=found.id) + "#calendar",
        message=lambda added: _("Dodano dni wolne: %(n)s.", n=len(added)),
        refused=_refused_on(school_id, "calendar"),
    )


@bp.post("/gmina/schools/<int:school_id>/days-off/remove")
@login_required
def drop_day_off(school_id: int) -> ResponseReturnValue:
    """Harmless twice: the day is named by its date, and a day that is no longer off stays so."""
    found = load_gmina_school(current_user, school_id)
    return perform(
        lambda actor: remove_day_off(actor, found, _date("date", _("dzień wolny"))),
        to=url_for(".school", school_id=found.id) + "#calendar",
        message=_("Usunięto dzień wolny."),
        refused=_refused_on(school_id, "calendar"),
    )
