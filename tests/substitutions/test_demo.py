"""The demo (issue 14 item 3): in SP Mirzec one teacher is absent on the demo's next school day,
one lesson of theirs substituted already, the others left for `dyrektor1` to plan."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text as sql_text

from ediary.demo.accounts import DEMO_PASSWORD
from ediary.demo.lessons import WARSAW
from ediary.demo.twofactor import demo_code
from tests.html import csrf_token, text
from tests.test_demo_seed import app_on, demo_district, login, sql  # noqa: F401 - fixtures

pytestmark = pytest.mark.shared_clock


def _today() -> str:
    return dt.datetime.now(WARSAW).date().isoformat()


def test_one_teacher_of_sp_mirzec_is_absent_with_lessons_left_to_plan(sql):  # noqa: F811
    rows = sql.execute(
        sql_text(
            "SELECT l.date, l.substitute_for_id FROM lessons l JOIN schools s"
            " ON s.id = l.school_id WHERE s.short_name = 'SP Mirzec'"
            " AND l.substitute_for_id IS NOT NULL"
            " AND l.date >= :today"
            " AND l.substitute_for_id NOT IN (SELECT id FROM users WHERE login = 'nauczyciel1')"
        ),
        {"today": _today()},
    ).all()
    assert len(rows) == 1, rows
    day, absent_id = rows[0]
    left = sql.execute(
        sql_text(
            "SELECT count(*) FROM lessons WHERE teacher_id = :t AND date = :d"
            " AND status = 'planned'"
        ),
        {"t": absent_id, "d": day},
    ).scalar_one()
    assert left >= 1


def test_dyrektor1_plans_the_rest_from_the_school_page(demo_district, app_on, sql):  # noqa: F811
    day, absent_id, first, last = sql.execute(
        sql_text(
            "SELECT l.date, u.id, u.first_name, u.last_name FROM lessons l"
            " JOIN users u ON u.id = l.substitute_for_id JOIN schools s ON s.id = l.school_id"
            " WHERE s.short_name = 'SP Mirzec' AND u.login <> 'nauczyciel1'"
            " AND l.date >= :today"
        ),
        {"today": _today()},
    ).one()
    day = dt.date.fromisoformat(str(day))
    app = app_on(demo_district.url, DEMO_MODE=True)
    client = app.test_client()
    login(client, "dyrektor1", DEMO_PASSWORD)
    token = csrf_token(client, "/login/code")
    # The next step: the session's other demo tests use this step's code (each once).
    code = demo_code(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    assert client.post("/login/code", data={"code": code, "csrf_token": token}).status_code == 302
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    school = re.search(r'href="(/schools/\d+)"', home)
    assert school
    page = client.get(school.group(1)).get_data(as_text=True)
    link = re.search(r'href="(/schools/\d+/substitutions)"', page)
    assert link, "the school page links the substitutions"
    day_list = text(client.get(f"{link.group(1)}/day?date={day}").get_data(as_text=True))
    assert f"{first} {last}" in day_list  # the staff room's list names the absent teacher
    plan = text(client.get(f"{link.group(1)}?teacher={absent_id}&date={day}").get_data(True))
    assert "Zastępstwo: " in plan and "Odwołaj lekcję" in plan
    # The range page of the same day: the last lesson is a group's, its parallel group proposed.
    assert "/substitutions/absence" in client.get(link.group(1)).get_data(as_text=True)
    days = text(
        client.get(f"{link.group(1)}/absence?teacher={absent_id}&from={day}&to={day}").get_data(
            True
        )
    )
    assert "Połącz z grupą: " in days and "Zapisz cały okres" in days
