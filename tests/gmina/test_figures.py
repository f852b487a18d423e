"""Figures across schools: what they count, and the proof that no cell identifies a pupil
(groups under MIN_GROUP pupils suppressed on the page and in both exports)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel
from ediary.diary.models import Grade
from ediary.diary.operations import record_grade
from ediary.district.figures import MIN_GROUP, figures
from ediary.people.models import User
from ediary.schools.models import Pupil, SchoolClass
from ediary.schools.operations import enrol_pupil
from tests.factories import SYSTEM, World
from tests.gmina.helpers import morning, roll
from tests.html import text

Login = Callable[[User], FlaskClient]


def _grade(world: World, pupil: Pupil, value: str) -> None:
    record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=pupil,
        subject=world.math,
        value=value,
        category=world.test_category,
        given_on=world.today,
    )


def _five_graded(world: World) -> list[Pupil]:
    """Five more pupils of 5a graded in maths (5a then has 7 pupils, 6 of them graded)."""
    pupils = [enrol_pupil(SYSTEM, world.class_a, f"Uczeń{i}", f"Próbny{i}") for i in range(5)]
    for pupil, value in zip(pupils, ("2", "3", "4", "5", "6"), strict=True):
        _grade(world, pupil, value)
    return pupils


def _pupils_behind(session: Session, school_id: int, level: int, subject_id: int) -> int:
    """Independently of the module: how many distinct pupils a cell's grades come from."""
    return int(
        session.scalar(
            select(func.count(distinct(Grade.pupil_id)))
            .join(Pupil, Pupil.id == Grade.pupil_id)
            .join(SchoolClass, SchoolClass.id == Pupil.class_id)
            .where(
                Grade.school_id == school_id,
                SchoolClass.grade_level == level,
                Grade.subject_id == subject_id,
                Grade.removed.is_(False),
            )
        )
        or 0
    )


def test_one_pupils_grades_are_suppressed_then_shown_for_a_group(
    world: World, session: Session
) -> None:
    _grade(world, world.pupil, "1")
    (cell,) = figures(world.district, world.today, world.today).averages
    assert cell.pupils == 1 and cell.suppressed and cell.mean is None

    _five_graded(world)
    (cell,) = figures(world.district, world.today, world.today).averages
    assert cell.pupils == 6 and not cell.suppressed
    assert cell.mean == Decimal("3.50")  # (1+2+3+4+5+6) / 6


def test_no_shown_cell_stands_on_fewer_than_five_pupils(world: World, session: Session) -> None:
    """The property the issue asks for, over every average cell (the page and both exports show
    exactly these cells: tested below)."""
    _five_graded(world)
    _grade(world, world.sibling, "6")  # 5b is grade level 5 too: one cell of 7 pupils
    b1 = morning(world)["b1"]  # 5b: two pupils
    roll(world, b1, {world.pupil_b.id: "nb"}, world.other_teacher)
    data = figures(world.district, world.today, world.today)
    for cell in data.averages:
        behind = _pupils_behind(session, cell.school_id, cell.grade_level, world.math.id)
        assert cell.pupils == behind
        assert cell.suppressed == (behind < MIN_GROUP)
        assert (cell.mean is None) == (behind < MIN_GROUP)
    (school,) = data.schools
    assert school.pupils == 2  # two pupils (5b) with an attendance mark in the period
    assert school.attendance_percent is None and school.unexcused_shown is None


def test_attendance_unexcused_and_activated_accounts(world: World, session: Session) -> None:
    extra = [enrol_pupil(SYSTEM, world.class_a, f"Ania{i}", f"Testowa{i}") for i in range(4)]
    states = {p.id: "ob" for p in extra} | {world.pupil.id: "nb", world.classmate.id: "u"}
    roll(world, world.lesson, states)
    (school,) = figures(world.district, world.today, world.today).schools
    assert school.pupils == 6
    assert (school.present, school.absent, school.unexcused) == (4, 2, 1)
    assert school.attendance_percent == Decimal("66.7")
    assert school.unexcused_shown == 1
    assert school.parents == 2 and school.activated_percent is None  # 2 parents: too few to show


def test_the_page_and_the_exports_hide_the_small_groups(
    world: World, session: Session, login_as: Login
) -> None:
    _grade(world, world.pupil, "1")  # alone: Zosia's grade must not be readable
    client = login_as(world.district_admin)
    base = f"/districts/{world.district.id}/figures"
    query = f"?since={world.today.isoformat()}&until={world.today.isoformat()}"
    page = client.get(base + query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "<script" not in html.split("<main")[1]
    assert 'class="suppressed"' in html and "1,00" not in text(html)
    exported = client.get(f"{base}/averages.csv{query}")
    assert exported.status_code == 200
    rows = list(
        csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[1][3:] == ["", ""]  # the count and the mean of a one-pupil group: empty
    workbook = load_workbook(io.BytesIO(client.get(f"{base}/averages.xlsx{query}").data))
    values = list(workbook.active.iter_rows(values_only=True))
    assert values[1][3:] == (None, None)
    schools = client.get(f"{base}/schools.csv{query}").get_data(as_text=True)
    assert "Szkoła Podstawowa nr 1" in schools and "Sąsiedztwie" not in schools


def test_a_wrong_period_is_refused_on_the_page(
    world: World, session: Session, login_as: Login
) -> None:
    client = login_as(world.district_admin)
    base = f"/districts/{world.district.id}/figures"
    wrong = client.get(f"{base}?since=2027-01-10&until=2027-01-01")
    assert wrong.status_code == 400
    assert "Początek okresu jest po jego końcu." in text(wrong.get_data(as_text=True))
    assert client.get(f"{base}?since=nonsense").status_code == 400
    assert client.get(f"{base}/pupils.csv").status_code == 404
    assert client.get(f"{base}/schools.pdf").status_code == 404
