"""The school's figures per class and subject (issue 14 item 6): attendance percentage, the mean
of the pupils' weighted averages, the pupils at or past the absence threshold, a server-side SVG
chart; the district's administrator gets counts, never names. The clock is pinned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.models import Grade
from ediary.diary.operations.roll import submit_roll
from ediary.diary.queries import weighted_average
from ediary.oversight.stats import attendance_bars, school_figures
from ediary.people.models import User
from tests.factories import World, make_graded_world
from tests.html import text


@pytest.fixture
def world(session: object) -> World:
    w, _earlier = make_graded_world()
    submit_roll(
        Actor(w.teacher, Channel.WEB), w.lesson, {w.pupil.id: "nb", w.classmate.id: "ob"}, base=None
    )
    db.session.flush()
    return w


def test_figures_per_class_and_subject(world: World) -> None:
    found = school_figures(world.school, world.today, with_names=True)
    assert found.year is not None and found.year.id == world.year.id
    (math,) = [f for f in found.rows if f.class_name == "5a" and f.subject == "matematyka"]
    assert math.attendance.present == 1 and math.attendance.absent == 1
    assert math.attendance.present_percent == Decimal("50.0")
    expected = weighted_average(_grades(world), world.school).value
    assert expected is not None and math.average == expected and math.graded_pupils == 1
    assert math.under_threshold == 1 and math.names == ["Wiśniewska Zosia"]
    bars = attendance_bars(found)
    assert [(b.label, b.percent, b.width) for b in bars] == [
        ("5a matematyka", Decimal("50.0"), 200)
    ]


def _grades(world: World) -> list[Grade]:
    return list(db.session.query(Grade).filter_by(pupil_id=world.pupil.id))


def test_no_names_for_the_district(world: World) -> None:
    found = school_figures(world.school, world.today, with_names=False)
    assert [f.under_threshold for f in found.rows] == [1] and all(not f.names for f in found.rows)


def test_before_the_first_year_there_is_nothing(world: World) -> None:
    before = world.year.starts_on - dt.timedelta(days=1)
    assert school_figures(world.school, before, with_names=True).rows == []


def test_the_director_sees_names_and_the_chart(
    world: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(world.school_admin)
    url = f"/oversight/schools/{world.school.id}/figures"
    assert url in client.get(f"/schools/{world.school.id}").get_data(as_text=True)
    body = client.get(url).get_data(as_text=True)
    assert "<svg" in body and "5a matematyka: 50.0%" in body
    assert "Wiśniewska Zosia" in text(body) and "cdn" not in body.lower()


def test_the_district_sees_counts_only(
    world: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(world.district_admin)
    url = f"/oversight/schools/{world.school.id}/figures"
    assert url in client.get(f"/districts/{world.district.id}").get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200
    body = text(response.get_data(as_text=True))
    assert "50.0%" in body
    for name in ("Wiśniewska", "Zosia", "Lewandowski", "Adam"):
        assert name not in body
    other = login_as(world.other_district_admin)
    assert other.get(url).status_code == 404
    assert login_as(world.other_school_admin).get(url).status_code == 404
    assert client.get(f"/oversight/schools/{2**63}/figures").status_code == 404
