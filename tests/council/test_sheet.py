"""The council sheet (issue 15 item 5) from seeded final grades: which pupils are flagged not
classified, not promoted or for a certificate with distinction (and which are not), the averages
and attendance; the print view and the PDF; the whole school for its director."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel
from ediary.council.models import Behaviour, BehaviourKind
from ediary.council.operations import set_behaviour
from ediary.council.sheet import build_sheets
from ediary.diary.models import GradeKind
from ediary.diary.operations import submit_roll
from ediary.people.models import User
from ediary.schools.models import Pupil, Subject
from ediary.schools.operations import enrol_pupil
from tests.council.helpers import final_grades
from tests.factories import SYSTEM, World, make_subject
from tests.html import text

Login = Callable[[User], FlaskClient]


class Seeded:
    def __init__(self, world: World, pupils: dict[str, Pupil], subjects: list[Subject]) -> None:
        self.world, self.pupils, self.subjects = world, pupils, subjects


@pytest.fixture
def seeded(world: World, session: Session) -> Seeded:
    """5a at the year's council (the last term): five pupils with year grades in four subjects
    and their final behaviour; Zosia also has term grades of the first term with a failing one."""
    subjects = [world.math] + [
        make_subject(world.school, name, short)
        for name, short in (("język polski", "pol"), ("przyroda", "prz"), ("historia", "his"))
    ]
    pupils = {
        "zosia": world.pupil,  # 5 5 5 4 = 4.75, wzorowe: distinction (the boundary)
        "adam": world.classmate,  # 5 5 5 5, dobre: no distinction (behaviour)
    }
    for key, first, last in (
        ("ewa", "Ewa", "Jedynkowa"),  # a "1": not promoted
        ("igor", "Igor", "Nieobecny"),  # "nkl": not classified
        ("lena", "Lena", "Prawiewyróżniona"),  # 5 5 4 4 = 4.5, wzorowe: no distinction
    ):
        pupils[key] = enrol_pupil(SYSTEM, world.class_a, first, last)
    values = {
        "zosia": ("5", "5", "5", "4"),
        "adam": ("5", "5", "5", "5"),
        "ewa": ("1", "3", "4", "3"),
        "igor": ("nkl", "4", "4", "4"),
        "lena": ("5", "5", "4", "4"),
    }
    behaviour = {"zosia": "wzorowe", "adam": "dobre", "ewa": "poprawne", "igor": "dobre",
                 "lena": "wzorowe"}  # fmt: skip
    term_one, term_last = world.year.terms
    tutor = Actor(world.tutor, Channel.WEB)
    for key, pupil in pupils.items():
        final_grades(SYSTEM, pupil, term_last, GradeKind.YEAR, world.teacher,
                     dict(zip(subjects, values[key], strict=True)))  # fmt: skip
        for kind in (BehaviourKind.PROPOSED, BehaviourKind.FINAL):
            set_behaviour(tutor, pupil, term_last, kind=kind, value=behaviour[key],
                          base_version=None, today=world.today)  # fmt: skip
    final_grades(SYSTEM, world.pupil, term_one, GradeKind.TERM, world.teacher,
                 dict(zip(subjects, ("1", "6", "6", "6"), strict=True)))  # fmt: skip
    # Attendance of the world's lesson (first term, inside the year): Zosia absent, Adam present.
    submit_roll(Actor(world.teacher, Channel.WEB), world.lesson,
                {world.pupil.id: "nb", world.classmate.id: "ob"}, base=None)  # fmt: skip
    session.commit()
    return Seeded(world, pupils, subjects)


def test_the_year_councils_flags_from_the_seeded_grades(seeded: Seeded) -> None:
    world = seeded.world
    sheet = build_sheets([world.class_a, world.class_b], world.year.terms[-1])
    assert sheet.year_council
    class_a = next(c for c in sheet.classes if c.school_class.id == world.class_a.id)
    rows = {r.pupil.id: r for r in class_a.rows}
    p = {key: rows[pupil.id] for key, pupil in seeded.pupils.items()}

    assert p["zosia"].average == Decimal("4.75") and p["zosia"].distinction
    assert p["adam"].average == Decimal("5.00") and not p["adam"].distinction
    assert p["lena"].average == Decimal("4.50") and not p["lena"].distinction
    assert p["ewa"].not_promoted and not p["ewa"].not_classified and not p["ewa"].distinction
    assert p["igor"].not_classified and not p["igor"].not_promoted
    assert p["igor"].average == Decimal("4.00")  # "nkl" counts in no average
    assert [r.pupil.id for r in class_a.distinctions] == [world.pupil.id]
    assert [r.pupil.id for r in class_a.not_promoted] == [seeded.pupils["ewa"].id]
    assert [r.pupil.id for r in class_a.not_classified] == [seeded.pupils["igor"].id]
    # The year's attendance: Zosia missed the one lesson with a roll, Adam was there.
    assert p["zosia"].attendance.present_percent == Decimal("0.0")
    assert p["adam"].attendance.present_percent == Decimal("100.0")
    # The roll records the other three present (its default): 4 of 5.
    assert class_a.attendance.present_percent == Decimal("80.0")
    # Class average: of the pupils' averages (4.75, 5, 2.75, 4, 4.5) = 4.20.
    assert class_a.average == Decimal("4.20")
    assert p["zosia"].behaviour is Behaviour.EXEMPLARY
    assert sheet.pupils == 5 + 2  # 5b's two pupils, with nothing yet
    assert (sheet.distinctions, sheet.not_promoted, sheet.not_classified) == (1, 1, 1)


def test_a_term_council_promotes_nobody_and_reads_the_term_grades(seeded: Seeded) -> None:
    world = seeded.world
    sheet = build_sheets([world.class_a], world.year.terms[0])
    assert not sheet.year_council
    [class_a] = sheet.classes
    zosia = next(r for r in class_a.rows if r.pupil.id == world.pupil.id)
    assert zosia.average == Decimal("4.75")  # 1 6 6 6
    assert not zosia.not_promoted and not zosia.distinction  # a year's decisions
    assert zosia.behaviour is None  # no behaviour grade set for the first term


def test_the_print_view_and_the_pdf_of_the_tutors_class(seeded: Seeded, login_as: Login) -> None:
    world = seeded.world
    tutor = login_as(world.tutor)
    last = world.year.terms[-1]
    page = tutor.get(f"/council/classes/{world.class_a.id}/sheet?term={last.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = text(html)
    assert "Zestawienie na radę klasyfikacyjną roczną" in shown
    assert f'data-pupil="{world.pupil.id}"' in html
    row = html.split(f'data-pupil="{world.pupil.id}"')[1].split("</tr>")[0]
    assert 'data-flag="distinction"' in row and "wzorowe" in row and "4,75" in row
    adam = html.split(f'data-pupil="{world.classmate.id}"')[1].split("</tr>")[0]
    assert "data-flag" not in adam

    pdf = tutor.get(f"/council/classes/{world.class_a.id}/sheet.pdf?term={last.id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    words = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Wiśniewska" in words and "wyróżnieniem" in words
    # Another class's sheet is no page of this tutor's.
    assert tutor.get(f"/council/classes/{world.class_b.id}/sheet").status_code == 404


def test_the_director_prints_the_whole_school(seeded: Seeded, login_as: Login) -> None:
    world = seeded.world
    director = login_as(world.school_admin)
    last = world.year.terms[-1]
    page = director.get(f"/council/schools/{world.school.id}/sheet?term={last.id}")
    shown = text(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "klasa 5a" in shown and "klasa 5b" in shown and "Jedynkowa" in shown
    pdf = director.get(f"/council/schools/{world.school.id}/sheet.pdf?term={last.id}")
    words = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Nieobecny" in words and "Wójcik" in words
    assert director.get(f"/council/schools/{world.other_school.id}/sheet").status_code == 404


def test_the_sheet_as_csv_flags_the_same_pupils(seeded: Seeded, login_as: Login) -> None:
    world = seeded.world
    tutor = login_as(world.tutor)
    last = world.year.terms[-1]
    answer = tutor.get(f"/council/classes/{world.class_a.id}/sheet.csv?term={last.id}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=";"))
    header, lines = rows[0], {(r[2], r[3]): r for r in rows[1:]}
    zosia, ewa = lines[("Wiśniewska", "Zosia")], lines[("Jedynkowa", "Ewa")]
    assert zosia[header.index("Z wyróżnieniem")] == "tak"
    assert zosia[header.index("Bez promocji")] == ""
    assert ewa[header.index("Bez promocji")] == "tak"
    assert ewa[header.index("matematyka")] == "1"
    xlsx = tutor.get(f"/council/classes/{world.class_a.id}/sheet.xlsx?term={last.id}")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
