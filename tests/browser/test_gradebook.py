"""The teacher's gradebook in a real Chromium: from the start page to the grid, grades typed
with the keyboard (Enter saves and moves down), the parent's page showing them live; two
editors of one cell, the later one shown a conflict in the cell. Its own server and world: the
grades would change the shared one's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.gradebook.operations import create_assessment
from ediary.timetable.models import TeachingAssignment
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.person import log_in
from tests.factories import make_world
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    pupil_id: int
    classmate_id: int
    grid_path: str
    parent_login: str
    teacher_login: str


def _build(database_url: str) -> Site:
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        assignment = db.session.scalars(
            select(TeachingAssignment).where(TeachingAssignment.teacher_id == world.teacher.id)
        ).one()
        create_assessment(
            Actor(world.teacher, Channel.WEB),
            assignment,
            category=world.test_category,
            given_on=world.today,
            description="sprawdzian: ułamki",
        )
        db.session.commit()
        return Site(
            url="",
            pupil_id=world.pupil.id,
            classmate_id=world.classmate.id,
            grid_path=f"/gradebook/{world.class_a.id}/{world.math.id}",
            parent_login=world.parent.login,
            teacher_login=world.teacher.login,
        )


@pytest.fixture(scope="module")
def grid_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("gradebook")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context


def _cell(page: Page, pupil_id: int) -> tuple[Locator, Locator]:
    td = page.locator(f'tr[data-p="{pupil_id}"] td').first
    return td, td.locator("input")


def test_grades_typed_with_the_keyboard_reach_the_parent_live_and_a_race_is_a_conflict(
    grid_site: Site, browser: Browser
) -> None:
    parent_context = _context(browser, PHONE)
    teacher_context = _context(browser, DESKTOP)
    other_context = _context(browser, DESKTOP)
    try:
        parent = parent_context.new_page()
        log_in(parent, grid_site.url, grid_site.parent_login)
        parent.goto(f"{grid_site.url}/portal/{grid_site.pupil_id}")
        expect(parent.locator("#live-status")).to_have_attribute("data-state", "live")
        parent.evaluate("window.__sameDocument = true")

        teacher = teacher_context.new_page()
        log_in(teacher, grid_site.url, grid_site.teacher_login)
        # From the start page, by its link.
        teacher.get_by_role("link", name="matematyka · 5a", exact=True).click()
        expect(teacher.get_by_role("heading", level=1)).to_contain_text("matematyka")
        # The grid's module script runs before DOMContentLoaded: keys typed earlier go nowhere.
        teacher.wait_for_load_state("domcontentloaded")
        classmate_td, classmate_input = _cell(teacher, grid_site.classmate_id)
        pupil_td, pupil_input = _cell(teacher, grid_site.pupil_id)

        # Adam (first row): 4+ Enter; the cursor moves down to Zosia: 5 Enter.
        classmate_input.focus()
        teacher.keyboard.type("4+")
        teacher.keyboard.press("Enter")
        expect(pupil_input).to_be_focused()
        teacher.keyboard.type("5")
        teacher.keyboard.press("Enter")
        expect(classmate_td).to_have_class("saved")
        expect(pupil_td).to_have_class("saved")
        row = teacher.locator(f'tr[data-p="{grid_site.pupil_id}"] .avg')
        expect(row).to_have_text("5,00")
        expect(row).to_have_attribute("title", "(5×3) / 3 = 5,00")

        expect(parent.locator(".toast").last).to_contain_text("Nowa ocena: 5")
        assert parent.evaluate("window.__sameDocument") is True  # live, no reload

        # A second editor opened the grid before the first changes Zosia's 5 to 4.
        other = other_context.new_page()
        log_in(other, grid_site.url, grid_site.teacher_login)
        other.goto(f"{grid_site.url}{grid_site.grid_path}")
        other_td, other_input = _cell(other, grid_site.pupil_id)
        expect(other_input).to_have_value("5")

        pupil_input.fill("4")
        pupil_input.press("Enter")
        expect(pupil_td).to_have_class("saved")
        expect(parent.locator(".toast").last).to_contain_text("4")

        other_input.fill("2")
        other_input.press("Enter")
        expect(other_td).to_have_class("conflict")
        expect(other_td.locator(".msg")).to_contain_text("teraz „4”")
        expect(other_input).to_have_value("4")

        # Reloaded, the first editor's 4 stands: nothing was overwritten.
        teacher.reload()
        pupil_td, pupil_input = _cell(teacher, grid_site.pupil_id)
        expect(pupil_input).to_have_value("4")

        # An improvement next to the original (the statute: both count), then Adam's 4+
        # withdrawn by emptying his cell.
        pupil_input.focus()
        teacher.keyboard.press("Control+A")
        teacher.keyboard.type("p5")
        teacher.keyboard.press("Enter")
        expect(pupil_td.locator("s")).to_have_text("4")
        expect(pupil_input).to_have_value("5")
        expect(row).to_have_text("4,50")
        expect(parent.locator(".toast").last).to_contain_text("Nowa ocena: 5")
        classmate_td, classmate_input = _cell(teacher, grid_site.classmate_id)
        classmate_input.focus()
        teacher.keyboard.press("Control+A")
        teacher.keyboard.press("Delete")
        teacher.keyboard.press("Enter")
        expect(classmate_td).to_have_class("saved")
        expect(classmate_input).to_have_value("")
        teacher.reload()
        expect(_cell(teacher, grid_site.classmate_id)[1]).to_have_value("")
    finally:
        for context in (parent_context, teacher_context, other_context):
            context.close()
