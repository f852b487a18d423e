"""Schools of the gmina: a school, its rooms and kiosk records, its calendar. The operations
(history, no events: nobody watches these live), the refusals on the form with what was typed,
and lesson generation skipping days off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.district.operations import (
    add_days_off,
    add_kiosk,
    add_room,
    add_school,
    remove_day_off,
    set_sms_cost,
)
from ediary.errors import Refusal
from ediary.kiosks.models import Kiosk
from ediary.people.models import User
from ediary.schools.calendar import is_school_day
from ediary.schools.models import DayOff, Room, School
from ediary.timetable.models import Lesson
from ediary.timetable.operations import ensure_lessons
from tests.events import capture_events
from tests.factories import World
from tests.html import hidden_fields, text

Login = Callable[[User], FlaskClient]


def _gmina(world: World) -> Actor:
    return Actor(world.district_admin, Channel.WEB)


def _next_weekday(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7 or 7)


def test_a_school_with_its_year_rooms_and_an_unenrolled_kiosk(
    world: World, session: Session
) -> None:
    year = (dt.date(2026, 9, 1), dt.date(2027, 2, 1), dt.date(2027, 6, 25))
    captured = capture_events(
        lambda: add_school(_gmina(world), world.district, "  Szkoła  w Ostojowie ", "SPO", year)
    )
    school = captured.result
    assert school.name == "Szkoła w Ostojowie" and school.district_id == world.district.id
    room = capture_events(lambda: add_room(_gmina(world), school, "7")).result
    kiosk = capture_events(lambda: add_kiosk(_gmina(world), room, "Komputer sali 7")).result
    assert (kiosk.school_id, kiosk.room_id, kiosk.enrolled) == (school.id, room.id, False)
    history = session.scalars(
        select(HistoryEntry.entity).where(HistoryEntry.actor_id == world.district_admin.id)
    ).all()
    assert {"schools", "rooms", "kiosks", "school_years"} <= set(history)


@pytest.mark.parametrize(
    ("action", "code"),
    [
        (lambda w: add_school(_gmina(w), w.district, "Szkoła Podstawowa nr 1", "X"), "name_taken"),
        (lambda w: add_school(_gmina(w), w.district, "   ", "X"), "name"),
        (lambda w: add_room(_gmina(w), w.school, "12"), "room_taken"),
        (lambda w: add_kiosk(_gmina(w), w.room, "Drugi"), "kiosk_taken"),
        (lambda w: set_sms_cost(_gmina(w), w.district, 5000), "sms_cost"),
        (
            lambda w: add_days_off(
                _gmina(w), w.school, dt.date(2027, 1, 20), dt.date(2027, 1, 19), "ferie"
            ),
            "dates_order",
        ),
        (
            lambda w: add_days_off(
                _gmina(w), w.school, dt.date(2026, 12, 5), dt.date(2026, 12, 6), "weekend"
            ),
            "weekend_only",
        ),
    ],
)
def test_refusals(world: World, session: Session, action: object, code: str) -> None:
    with pytest.raises(Refusal) as refused:
        action(world)  # type: ignore[operator]
    assert refused.value.code == code


def test_days_off_cover_the_weekdays_of_a_holiday_and_stop_lesson_generation(
    world: World, session: Session
) -> None:
    monday = _next_weekday(world.today, 0)
    added = add_days_off(
        _gmina(world), world.school, monday, monday + dt.timedelta(days=13), "ferie"
    )
    assert len(added) == 10  # two weeks, weekends need no rows
    assert not is_school_day(world.school, monday)
    assert not is_school_day(world.school, monday + dt.timedelta(days=5))  # a Saturday
    assert is_school_day(world.school, monday + dt.timedelta(days=14))
    assert is_school_day(world.other_school, monday)  # another school's calendar is its own
    # Again: nothing doubled.
    assert add_days_off(_gmina(world), world.school, monday, monday, "ferie") == []

    lesson_day = world.today + dt.timedelta(days=7)  # the world's lesson's weekday, next week
    system = Actor(None, Channel.SYSTEM)
    add_days_off(_gmina(world), world.school, lesson_day, lesson_day, "dzień dyrektorski")
    assert ensure_lessons(system, world.school, lesson_day) == []
    assert remove_day_off(_gmina(world), world.school, lesson_day) is True
    assert remove_day_off(_gmina(world), world.school, lesson_day) is False  # harmless twice
    (lesson,) = ensure_lessons(system, world.school, lesson_day)
    assert lesson.date == lesson_day


def test_the_pages_add_a_school_a_room_a_kiosk_and_days_off(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()  # the world outlives the refused request's rollback
    client = login_as(world.district_admin)
    schools = f"/districts/{world.district.id}/schools"
    fields = hidden_fields(client, schools)
    sent = client.post(schools, data={**fields, "name": "Szkoła w Gadce", "short_name": "SPG"})
    assert sent.status_code == 302
    again = client.post(schools, data={**fields, "name": "Szkoła w Gadce", "short_name": "SPG"})
    assert again.status_code == 302  # the same form twice: one school (form_token)
    (school,) = session.scalars(select(School).where(School.name == "Szkoła w Gadce")).all()

    page = f"/gmina/schools/{school.id}"
    token = hidden_fields(client, page)["csrf_token"]
    assert (
        client.post(f"{page}/rooms", data={"csrf_token": token, "name": "101"}).status_code == 302
    )
    room = session.scalars(select(Room).where(Room.school_id == school.id)).one()
    sent = client.post(
        f"{page}/kiosks", data={"csrf_token": token, "room_id": str(room.id), "name": "PC 101"}
    )
    assert sent.status_code == 302
    assert session.scalars(select(Kiosk).where(Kiosk.room_id == room.id)).one().name == "PC 101"
    # A room of another school is refused on the form (no kiosk in a foreign school).
    foreign = client.post(
        f"{page}/kiosks", data={"csrf_token": token, "room_id": str(world.room.id), "name": "X"}
    )
    assert foreign.status_code == 400
    sent = client.post(
        f"{page}/days-off",
        data={"csrf_token": token, "first": "2027-01-18", "last": "2027-01-29", "reason": "ferie"},
    )
    assert sent.status_code == 302
    shown = text(client.get(page).get_data(as_text=True))
    assert "ferie" in shown and "101" in shown and "PC 101" in shown
    count = session.scalars(select(DayOff).where(DayOff.school_id == school.id)).all()
    assert len(count) == 10


def test_a_refusal_keeps_what_was_typed(world: World, session: Session, login_as: Login) -> None:
    session.commit()  # the world outlives the refused request's rollback
    client = login_as(world.district_admin)
    page = f"/gmina/schools/{world.school.id}"
    token = hidden_fields(client, page)["csrf_token"]
    refused = client.post(
        f"{page}/days-off",
        data={"csrf_token": token, "first": "2027-01-29", "last": "2027-01-18", "reason": "ferie"},
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Ostatni dzień jest przed pierwszym." in text(html)
    assert 'value="2027-01-29"' in html and 'value="ferie"' in html
    bad_date = client.post(
        f"{page}/days-off", data={"csrf_token": token, "first": "jutro", "reason": "x"}
    )
    assert bad_date.status_code == 400 and "Podaj datę" in text(bad_date.get_data(as_text=True))


def test_another_gminas_school_is_missing(world: World, session: Session, login_as: Login) -> None:
    client = login_as(world.district_admin)
    token = hidden_fields(client, f"/gmina/schools/{world.school.id}")["csrf_token"]
    other = f"/gmina/schools/{world.other_school.id}"
    assert client.get(other).status_code == 404
    assert client.post(f"{other}/rooms", data={"csrf_token": token, "name": "9"}).status_code == 404
    assert (
        session.scalars(select(Lesson).where(Lesson.school_id == world.other_school.id)).all() == []
    )
