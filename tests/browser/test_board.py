"""The gmina's 8:15 board in a real Chromium: on a 1920 px wall screen (many schools side by side)
and on a phone (one column, nothing wider than the screen), and live: a teacher's roll changes
the figures without a reload. Its own server and world (the roll changes them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from ediary.db import Base, db
from tests.browser.conftest import PHONE
from tests.browser.person import log_in
from tests.factories import begun, make_world
from tests.realtime.conftest import WebTeacher, login
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser

WALL = {"width": 1920, "height": 1080}


@dataclass(frozen=True)
class Site:
    url: str
    district_id: int
    school_id: int
    lesson_id: int
    pupil_id: int
    gmina_login: str
    teacher_login: str


@pytest.fixture(scope="module")
def board_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("board")
    url = f"sqlite:///{directory / 'ediary.db'}"
    with bound(url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        begun(world.lesson)  # the server keeps the suite's clock: the roll is open at any hour
        ids = (world.district.id, world.school.id, world.lesson.id, world.pupil.id)
        logins = (world.district_admin.login, world.teacher.login)
    with running_server(url, directory) as server:
        yield Site(server.url, *ids, *logins)


def _open_board(browser: Browser, site: Site, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, site.url, site.gmina_login)
    page.get_by_role("link", name="Gmina Testowa").click()
    page.get_by_role("link", name=re.compile("Tablica 8:15")).click()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    return page


def _fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_the_board_on_a_wall_screen_and_on_a_phone(board_site: Site, browser: Browser) -> None:
    wall = _open_board(browser, board_site, WALL)
    phone = _open_board(browser, board_site, PHONE)
    try:
        for page in (wall, phone):
            expect(page.get_by_role("heading", name="Razem w gminie")).to_be_visible()
            expect(page.locator(".board-school")).to_have_count(1)  # not the other gmina's
            assert _fits(page)
        columns = wall.evaluate(
            "getComputedStyle(document.querySelector('.board-schools'))"
            ".gridTemplateColumns.split(' ').length"
        )
        assert columns >= 5  # a wall screen shows many schools side by side
        assert (
            phone.evaluate(
                "getComputedStyle(document.querySelector('.board-schools'))"
                ".gridTemplateColumns.split(' ').length"
            )
            == 1
        )
        card = wall.locator(".board-school")
        assert wall.evaluate("document.querySelector('main').getBoundingClientRect().width") > 1800
        expect(card.locator(".day")).to_have_text("0 / 1")
        for page in (wall, phone):
            page.evaluate("window.__sameDocument = true")

        teacher = WebTeacher(
            board_site.url, login(board_site.url, board_site.teacher_login), board_site.lesson_id
        )
        teacher.roll({board_site.pupil_id: "nb"})

        for page in (wall, phone):
            expect(page.locator(".board-school .day")).to_have_text("1 / 1", timeout=3_000)
            assert page.evaluate("window.__sameDocument === true")  # no reload
        assert "Zosia" not in wall.content() and "Wiśniewska" not in wall.content()
    finally:
        wall.context.close()
        phone.context.close()


def test_the_gmina_adds_days_off_with_the_keyboard(board_site: Site, browser: Browser) -> None:
    """Schools of the gmina → a school → its calendar: a refused range keeps what was typed, then
    the holiday is added; sent with Enter from the keyboard."""
    context = browser.new_context(viewport=PHONE, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, board_site.url, board_site.gmina_login)
        page.get_by_role("link", name="Gmina Testowa").click()
        page.get_by_role("link", name=re.compile("Szkoły gminy")).click()
        page.get_by_role("link", name="Szkoła Podstawowa nr 1").click()
        # Date fields take the ISO date (how Chromium segments a typed date depends on the
        # platform's format); the rest is the keyboard: Tab between fields, Enter sends.
        page.get_by_label("Od dnia").fill("2027-01-29")
        page.get_by_label("Do dnia (włącznie, nieobowiązkowo)").fill("2027-01-18")  # refused
        page.get_by_label("Powód").focus()
        page.keyboard.type("ferie zimowe")
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("Ostatni dzień jest przed pierwszym.")
        expect(page.get_by_label("Powód")).to_have_value("ferie zimowe")
        expect(page.get_by_label("Od dnia")).to_have_value("2027-01-29")
        page.get_by_label("Od dnia").fill("2027-01-18")
        page.get_by_label("Do dnia (włącznie, nieobowiązkowo)").fill("2027-01-29")
        page.get_by_label("Powód").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Dodano dni wolne: 10.")
        expect(page.locator(".days-off li")).to_have_count(10)
        assert _fits(page)
    finally:
        context.close()
