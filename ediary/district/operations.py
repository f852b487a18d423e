"""The gmina's writes: its schools, their rooms and kiosk records, their calendars, its settings.

Each takes the actor first, refuses in Polish, flushes and never commits (house rule 2); history
rows come from `@operation`. None of them concerns a pupil or a parent, so none publishes a
journal event: nobody watches these live.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Refusal
from ediary.kiosks.models import Kiosk
from ediary.schools.models import DayOff, District, Room, School
from ediary.schools.operations import create_school, create_school_year

MAX_DAYS_OFF = 120  # one request covers at most the summer holidays


def _clean(text: str, limit: int, code: str, message: str) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned or len(cleaned) > limit:
        raise Refusal(code, message)
    return cleaned


@operation
def add_school(
    actor: Actor,
    district: District,
    name: str,
    short_name: str,
    year: tuple[dt.date, dt.date, dt.date] | None = None,
) -> School:
    """A school of the gmina with its statute defaults and, when given, its school year
    (first day, first day of the second term, last day)."""
    name = _clean(name, 200, "name", _l("Podaj nazwę szkoły (do 200 znaków)."))
    short_name = _clean(short_name, 40, "short_name", _l("Podaj skrót nazwy (do 40 znaków)."))
    taken = db.session.scalar(
        select(School.id).where(
            School.district_id == district.id, func.lower(School.name) == name.lower()
        )
    )
    if taken is not None:
        raise Refusal("name_taken", _l("Gmina ma już szkołę o tej nazwie."))
    school = create_school(actor, district, name, short_name)
    if year is not None:
        create_school_year(actor, school, *year)
    return school


@operation
def add_room(actor: Actor, school: School, name: str) -> Room:
    name = _clean(name, 40, "room_name", _l("Podaj nazwę sali (do 40 znaków)."))
    taken = db.session.scalar(
        select(Room.id).where(Room.school_id == school.id, func.lower(Room.name) == name.lower())
    )
    if taken is not None:
        raise Refusal("room_taken", _l("Szkoła ma już salę o tej nazwie."))
    room = Room(school_id=school.id, name=name)
    db.session.add(room)
    return room


@operation
def add_kiosk(actor: Actor, room: Room, name: str) -> Kiosk:
    """The record of a room's classroom computer, not enrolled: the school administrator issues
    its enrollment code when the computer is installed."""
    name = _clean(name, 80, "kiosk_name", _l("Podaj nazwę komputera (do 80 znaków)."))
    taken = db.session.scalar(select(Kiosk.id).where(Kiosk.room_id == room.id))
    if taken is not None:
        raise Refusal("kiosk_taken", _l("Ta sala ma już swój komputer."))
    kiosk = Kiosk(school_id=room.school_id, room_id=room.id, name=name)
    db.session.add(kiosk)
    return kiosk


@operation
def add_days_off(
    actor: Actor, school: School, first: dt.date, last: dt.date, reason: str
) -> list[DayOff]:
    """Every weekday from `first` to `last` becomes a day off (holidays span weeks); days that
    already are keep their reason. Lessons already generated for those days are not removed:
    the school administrator cancels them (parents are told)."""
    reason = _clean(reason, 120, "reason", _l("Podaj powód, np. „ferie zimowe” (do 120 znaków)."))
    if last < first:
        raise Refusal("dates_order", _l("Ostatni dzień jest przed pierwszym."))
    if (last - first).days >= MAX_DAYS_OFF:
        raise Refusal("too_long", _l("Za długi okres: najwyżej 120 dni naraz."))
    existing = set(
        db.session.scalars(
            select(DayOff.date).where(
                DayOff.school_id == school.id, DayOff.date >= first, DayOff.date <= last
            )
        )
    )
    added = []
    day = first
    while day <= last:
        if day.weekday() < 5 and day not in existing:
            row = DayOff(school_id=school.id, date=day, reason=reason)
            db.session.add(row)
            added.append(row)
        day += dt.timedelta(days=1)
    if not added and not existing:
        raise Refusal("weekend_only", _l("W tym okresie nie ma dni roboczych."))
    return added


@operation
def remove_day_off(actor: Actor, school: School, date: dt.date) -> bool:
    """The date has lessons again (generated when the day comes); False if it was not off."""
    row = db.session.scalar(
        select(DayOff).where(DayOff.school_id == school.id, DayOff.date == date)
    )
    if row is None:
        return False
    db.session.delete(row)
    return True


@operation
def set_sms_cost(actor: Actor, district: District, grosze: int) -> District:
    if not 0 <= grosze <= 1000:
        raise Refusal("sms_cost", _l("Koszt SMS-a: od 0 do 1000 groszy."))
    district.sms_cost_grosze = grosze
    return district
