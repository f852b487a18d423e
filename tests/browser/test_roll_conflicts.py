"""The web roll form in Chromium when someone else changed the roll meanwhile (issue 10, item 1):
the teacher's other changes are saved, the conflict is shown with both values and who made the
other change, the teacher's choice stays in the form, and saving again is an explicit decision.

A server of its own (module scope): this test changes the roll of its lesson, which the shared
browser site's other tests count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.diary.models import Attendance
from ediary.diary.operations import submit_roll
from ediary.excuses.operations import decide_excuses, request_excuse
from ediary.people.models import User
from ediary.schools.models import Pupil
from ediary.timetable.models import Lesson
from tests.browser.person import log_in
from tests.conftest import app_bound_to
from tests.factories import begun, make_world
from tests.servers import running_server

pytestmark = pytest.mark.browser


@contextmanager
def bound(database_url: str) -> Iterator[None]:
    """This process's `db` on the server's database for a while (the world's people act)."""
    with app_bound_to(database_url):
        yield
        db.session.commit()


@dataclass(frozen=True)
class World:
    url: str
    database_url: str
    lesson_id: int
    pupil_id: int
    classmate_id: int
    teacher_login: str
    tutor_name: str


@pytest.fixture(scope="module")
def roll_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("roll-form")
    database_url = f"sqlite:///{directory / 'ediary.db'}"
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        begun(world.lesson)
        # The roll taken at the classroom computer: the pupil absent.
        at_kiosk = Actor(world.teacher, Channel.KIOSK, world.kiosk.id)
        submit_roll(at_kiosk, world.lesson, {world.pupil.id: "nb"}, base={world.pupil.id: None})
        ids = (world.lesson.id, world.pupil.id, world.classmate.id)
        logins = (world.teacher.login, world.tutor.full_name)
    with running_server(database_url, Path(directory)) as server:
        yield World(server.url, database_url, *ids, *logins)


def excuse(site: World) -> None:
    """The parent asks to excuse the absence and the form tutor approves it, on the web."""
    with bound(site.database_url):
        pupil = db.session.get(Pupil, site.pupil_id)
        lesson = db.session.get(Lesson, site.lesson_id)
        assert pupil is not None and lesson is not None
        absence = (
            db.session.query(Attendance).filter_by(pupil_id=pupil.id, lesson_id=lesson.id).one()
        )
        parent = db.session.query(User).filter_by(login="maria_wisniewska").one()
        tutor = db.session.query(User).filter_by(login="jan_kowalski").one()
        request = request_excuse(
            Actor(parent, Channel.WEB),
            pupil,
            absences=[absence],
            future_days=[],
            reason="Choroba",
            note=None,
            today=lesson.date,
        )
        decide_excuses(Actor(tutor, Channel.WEB), [request], approve=True)


def codes(site: World) -> dict[int, str]:
    with bound(site.database_url):
        rows = db.session.query(Attendance).filter_by(lesson_id=site.lesson_id).all()
        return {a.pupil_id: a.type.code for a in rows}


def test_a_change_made_meanwhile_is_shown_and_kept_until_the_teacher_decides(
    roll_site: World, desktop: Page
) -> None:
    site, page = roll_site, desktop
    log_in(page, site.url, site.teacher_login)
    page.goto(f"{site.url}/lessons/{site.lesson_id}")
    pupil, classmate = page.get_by_label("Zosia Wiśniewska"), page.get_by_label("Adam Lewandowski")
    expect(pupil).to_have_value("nb")

    excuse(site)  # while the teacher's page still shows the absence

    pupil.select_option("sp")
    classmate.select_option("zw")
    page.get_by_role("button", name="Zapisz obecność i temat").click()

    alert = page.locator("section.conflicts")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("heading")).to_have_text("Zmienione w międzyczasie przez kogoś innego")
    expect(alert.locator(".wanted")).to_have_text("spóźniony (sp)")
    expect(alert.locator(".server")).to_have_text("nieobecny usprawiedliwiony (u)")
    expect(alert.locator(".who")).to_contain_text(site.tutor_name)
    expect(alert.locator(".who")).to_contain_text("przeglądarka")
    # The classmate's change is saved; the excuse stands; the teacher's choice stays selected.
    assert codes(site) == {site.pupil_id: "u", site.classmate_id: "zw"}
    expect(pupil).to_have_value("sp")
    expect(classmate).to_have_value("zw")
    base = page.locator(f'input[name="base-{site.pupil_id}"]')
    expect(base).to_have_value("u")

    # Saving again is the teacher's decision, knowing what it replaces.
    page.get_by_role("button", name="Zapisz obecność i temat").click()
    expect(page.get_by_role("status")).to_have_text("Zapisano obecność i temat lekcji.")
    expect(page.locator("section.conflicts")).to_have_count(0)
    expect(pupil).to_have_value("sp")
    assert codes(site) == {site.pupil_id: "sp", site.classmate_id: "zw"}
    assert re.fullmatch(rf"{re.escape(site.url)}/lessons/{site.lesson_id}", page.url)
