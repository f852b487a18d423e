"""The demo: `dyrektor1` reaches the demo school's timetable grid by clicking, and the seeded
assignments carry their weekly hours, so the seeded plan shows no "over the hours" clash."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text as sql_text

from tests.html import text
from tests.test_demo_seed import (  # noqa: F401 - fixtures
    app_on,
    demo_district,
    demo_staff_login,
    login,
    sql,
)

pytestmark = pytest.mark.shared_clock


def test_no_seeded_assignment_is_placed_over_its_weekly_hours(sql):  # noqa: F811
    over = sql.execute(
        sql_text(
            "SELECT count(*) FROM teaching_assignments ta WHERE ta.weekly_hours < "
            "(SELECT count(*) FROM timetable_entries te WHERE te.assignment_id = ta.id)"
        )
    ).scalar_one()
    assert over == 0
    assert (
        sql.execute(sql_text("SELECT max(weekly_hours) FROM teaching_assignments")).scalar_one() > 1
    )


def test_dyrektor1_clicks_through_to_the_class_grid(demo_district, app_on):  # noqa: F811
    app = app_on(demo_district.url, DEMO_MODE=True)
    client = app.test_client()
    demo_staff_login(client, "dyrektor1")  # the password, then the second factor
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    school = re.search(r'href="(/schools/\d+)"', home)
    assert school, "the home page links the school"
    page = client.get(school.group(1)).get_data(as_text=True)
    console = re.search(r'href="(/schools/\d+/plan)"', page)
    assert console, "the school page links the timetable console"
    index = client.get(console.group(1)).get_data(as_text=True)
    grid_link = re.search(r'href="(/schools/\d+/plan/grid/class-\d+)">4b<', index)
    assert grid_link, "the console lists class 4b"
    grid = client.get(grid_link.group(1))
    assert grid.status_code == 200
    shown = text(grid.get_data(as_text=True))
    assert "Plan lekcji: klasa 4b" in shown
    assert shown.count("·") > 20  # the week is filled: subject · teacher · room per lesson
