"""Lists and exports: class lists, guardians' contacts, birthdays and ages; CSV, XLSX, print
view and PDF; names that a spreadsheet would run as formulas are made plain text; only the
school's own office reaches them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel, operation
from ediary.office.exports import age_on
from ediary.people.models import User
from ediary.schools.models import Pupil
from ediary.schools.operations import enrol_pupil
from tests.factories import World

Login = Callable[[User], FlaskClient]
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+48 600", "-2+3", "@SUM(A1)"]


@operation
def _born(actor: Actor, pupil: Pupil, day: dt.date, pesel: str | None = None) -> None:
    pupil.birth_date = day
    pupil.pesel = pesel


@operation
def _email(actor: Actor, user: User, email: str) -> None:
    user.email = email


@pytest.fixture
def hostile(office_world: World, session: Session) -> World:
    """Pupils of 5a whose surnames a spreadsheet would run, and birth dates for the others."""
    actor = Actor(office_world.secretary, Channel.WEB)
    for n, name in enumerate(HOSTILE):
        pupil = enrol_pupil(actor, office_world.class_a, "Jan", name)
        _born(actor, pupil, dt.date(2015, 1 + n, 10))
    _born(actor, office_world.pupil, dt.date(2014, 12, 24))
    _born(actor, office_world.classmate, dt.date(2015, 6, 1))
    _email(actor, office_world.parent, "=cmd|' /C calc'!A0")
    session.commit()
    return office_world


def _get(client: FlaskClient, world: World, kind: str, **query: object) -> bytes:
    args = "&".join(f"{k}={v}" for k, v in query.items())
    response = client.get(f"/office/schools/{world.school.id}/lists/{kind}?{args}")
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data()


def test_a_class_list_as_xlsx_has_its_pupils_with_formulas_neutralised(
    hostile: World, login_as: Login
) -> None:
    client = login_as(hostile.secretary)
    data = _get(client, hostile, "pupils", class_id=hostile.class_a.id, format="xlsx")
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["Lp.", "Klasa", "Nazwisko", "Imię"]
    surnames = {row[2] for row in rows[1:]}
    assert {"Wiśniewska", "Lewandowski"} <= surnames
    assert {"'" + name for name in HOSTILE} <= surnames
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert {row[1] for row in rows[1:]} == {"5a"}  # the chosen class only


def test_guardians_contacts_as_csv(hostile: World, login_as: Login) -> None:
    client = login_as(hostile.secretary)
    data = _get(client, hostile, "guardians", format="csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Klasa", "Uczeń", "Opiekun", "Relacja", "E-mail", "Telefon"]
    mother = [r for r in rows if r[1] == "Wiśniewska Zosia"]
    assert mother and mother[0][4] == "'=cmd|' /C calc'!A0"
    assert any(r[1] == "Wiśniewski Staś" and r[0] == "5b" for r in rows)


def test_birthdays_in_calendar_order_with_ages(hostile: World, login_as: Login) -> None:
    client = login_as(hostile.secretary)
    data = _get(client, hostile, "birthdays", format="csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))[1:]
    days = [r[0] for r in rows]
    assert days == sorted(days, key=lambda d: (d[3:], d[:2]))
    zosia = next(r for r in rows if r[3] == "Zosia")
    assert zosia[0] == "24.12" and int(zosia[5]) == age_on(dt.date(2014, 12, 24), hostile.today)
    assert age_on(dt.date(2015, 6, 2), dt.date(2026, 6, 1)) == 10
    assert age_on(dt.date(2015, 6, 1), dt.date(2026, 6, 1)) == 11


def test_print_view_and_pdf(hostile: World, login_as: Login) -> None:
    client = login_as(hostile.school_admin)
    page = _get(client, hostile, "pupils", class_id=hostile.class_a.id).decode()
    assert "Wiśniewska" in page and "=HYPERLINK" in page.replace("&#34;", '"').replace(
        "&quot;", '"'
    )
    pdf = _get(client, hostile, "pupils", class_id=hostile.class_a.id, format="pdf")
    assert pdf.startswith(b"%PDF")


def test_another_schools_class_or_a_district_admin_sees_nothing(
    hostile: World, login_as: Login, client: FlaskClient
) -> None:
    login_as(hostile.secretary)
    foreign = hostile.class_other_school.id
    path = f"/office/schools/{hostile.school.id}/lists/pupils"
    assert client.get(f"{path}?class_id={foreign}&format=csv").status_code == 404
    assert client.get(f"{path}?class_id=99999999999999999999").status_code == 404
    assert client.get(f"{path}?format=docx").status_code == 404
    assert client.get(f"/office/schools/{hostile.school.id}/lists/everything").status_code == 404
    for outsider in (hostile.district_admin, hostile.other_secretary, hostile.tutor):
        login_as(outsider)
        assert client.get(f"{path}?format=xlsx").status_code == 404
