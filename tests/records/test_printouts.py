"""The class diary's printout and a pupil's record (issue 17, item 2): what the law lists is on
the page and in the PDF (Polish letters, A4), the period is a term of the class's year, and the
XML downloads are valid. Access is the matrix's (ediary/access/matrix.yaml, records)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.diary.operations.roll import set_topic, submit_roll
from ediary.people.models import User
from ediary.records import export
from ediary.schools.models import GuardianRelation, Guardianship
from tests.factories import World, make_graded_world
from tests.html import text


@pytest.fixture
def diary(session: object) -> World:
    world, _earlier = make_graded_world()
    teacher = Actor(world.teacher, Channel.KIOSK, kiosk_id=world.kiosk.id)
    submit_roll(teacher, world.lesson, {world.pupil.id: "nb"}, base=None)
    set_topic(teacher, world.lesson, "Ułamki zwykłe: dodawanie")
    _particulars(Actor.system(), world)
    db.session.flush()
    return world


@operation
def _particulars(actor: Actor, world: World) -> None:
    world.pupil.birth_place, world.pupil.address = "Wąchock", "ul. Źródlana 5, 27-215 Wąchock"
    world.parent.address = "ul. Źródlana 5, 27-215 Wąchock"
    for link in db.session.query(Guardianship).filter_by(pupil_id=world.pupil.id):
        link.relation = GuardianRelation.MOTHER


def test_the_print_view_has_what_the_law_lists(
    diary: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(diary.school_admin)
    page = text(client.get(f"/records/classes/{diary.class_a.id}/diary").get_data(as_text=True))
    assert "Dziennik lekcyjny klasy 5a" in page
    assert "Wiśniewska Zosia" in page and "Wąchock" in page and "ul. Źródlana 5" in page
    assert diary.parent.full_name in page  # the guardian, with her address
    assert (
        "Ułamki zwykłe: dodawanie" in page and "Anna Nowak" in page
    )  # the topic and who signed it
    assert "4+ (sprawdzian)" in page and "nb" in page


def test_a_term_outside_the_classes_year_is_a_missing_page(
    diary: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(diary.school_admin)
    terms = {term.number: term.id for term in diary.year.terms}
    assert (
        client.get(f"/records/classes/{diary.class_a.id}/diary?term={terms[1]}").status_code == 200
    )
    foreign = diary.class_other_school
    other_terms = db.session.get(type(diary.year), foreign.year_id).terms  # type: ignore[union-attr]
    for bad in (str(other_terms[0].id), "x", str(2**63), "-1"):
        assert (
            client.get(f"/records/classes/{diary.class_a.id}/diary?term={bad}").status_code == 404
        )


def test_the_pdf_is_a4_with_polish_letters(
    diary: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(diary.school_admin)
    response = client.get(f"/records/classes/{diary.class_a.id}/diary.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "dziennik-5a-rok.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    first = reader.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)
    extracted = "\n".join(page.extract_text() for page in reader.pages)
    assert "Wąchock" in extracted and "Ułamki zwykłe" in extracted and "Źródlana" in extracted


def test_the_xml_downloads_are_valid(
    diary: World, login_as: Callable[[User], FlaskClient], tmp_path: Path
) -> None:
    client = login_as(diary.school_admin)
    for url in (
        f"/records/classes/{diary.class_a.id}/diary.xml",
        f"/records/schools/{diary.school.id}/years/{diary.year.id}.xml",
    ):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/xml"
        path = tmp_path / "download.xml"
        path.write_bytes(response.data)
        export.validate(path)
        assert "Ułamki zwykłe".encode() in response.data


def test_a_pupils_record_shows_the_particulars_and_grades(
    diary: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(diary.school_admin)
    page = text(client.get(f"/records/pupils/{diary.pupil.id}/record").get_data(as_text=True))
    assert (
        "Dane do arkusza ocen" in page
        and "Wąchock" in page
        and "matematyka" in page
        and "4+" in page
    )


def test_the_school_page_leads_the_director_to_the_documentation(
    diary: World, login_as: Callable[[User], FlaskClient]
) -> None:
    director = login_as(diary.school_admin)
    assert f"/records/schools/{diary.school.id}" in director.get(
        f"/schools/{diary.school.id}"
    ).get_data(as_text=True)
    page = director.get(f"/records/schools/{diary.school.id}").get_data(as_text=True)
    assert f"/records/classes/{diary.class_a.id}/diary" in page
