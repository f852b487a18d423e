"""The secretary at work in a real Chromium (issue 13): lands on the office after login,
registers a pupil with the keyboard only, finds her by typing "wachock" (no Polish letters, the
results come while typing), finds another pupil and transfers her to another class, and the
parent's page, open on a phone meanwhile, follows by itself. Its own server and world."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from ediary.db import Base, db
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.person import log_in
from tests.factories import make_world
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    school_id: int
    pupil_id: int
    parent_login: str
    secretary_login: str


@pytest.fixture(scope="module")
def office_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("office")
    url = f"sqlite:///{directory / 'ediary.db'}"
    with bound(url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        built = (world.school.id, world.pupil.id, world.parent.login, world.secretary.login)
    with running_server(url, directory) as server:
        yield Site(server.url, *built)


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context


def _type_fields(page: Page, *values: str) -> None:
    """Types each value and Tabs to the next field, as a secretary does."""
    for value in values:
        page.keyboard.type(value)
        page.keyboard.press("Tab")


def test_the_secretary_registers_finds_and_transfers_and_the_parent_follows(
    office_site: Site, browser: Browser
) -> None:
    parent_context = _context(browser, PHONE)
    office_context = _context(browser, DESKTOP)
    try:
        parent = parent_context.new_page()
        log_in(parent, office_site.url, office_site.parent_login)
        parent.goto(f"{office_site.url}/portal/{office_site.pupil_id}")
        expect(parent.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(parent.get_by_text("Klasa 5a")).to_be_visible()

        office = office_context.new_page()
        log_in(office, office_site.url, office_site.secretary_login)
        expect(office).to_have_url(f"{office_site.url}/office/{office_site.school_id}")
        expect(office.get_by_label("Imię, nazwisko, PESEL lub klasa")).to_be_focused()

        # A new pupil, keyboard only: names, a PESEL (the birth date comes from it), Enter.
        office.get_by_role("link", name="Wpisz nowego ucznia").focus()
        office.keyboard.press("Enter")
        office.get_by_label("Imię (imiona)").focus()
        _type_fields(office, "Hanna", "Wąchocka", "16252012303")
        office.get_by_label("Adres zamieszkania").focus()
        office.keyboard.type("ul. Kościelna 1, Wąchock")
        office.keyboard.press("Enter")
        expect(office.get_by_role("alert")).to_contain_text("PESEL ma błędną cyfrę kontrolną")
        expect(office.get_by_label("Adres zamieszkania")).to_have_value("ul. Kościelna 1, Wąchock")
        office.get_by_label("PESEL", exact=True).fill("")
        office.get_by_label("PESEL", exact=True).focus()
        office.keyboard.type("16252012302")  # 20 May 2016, the right checksum
        office.keyboard.press("Enter")
        expect(office.get_by_role("status")).to_have_text("Uczeń został wpisany do księgi uczniów.")
        expect(office.get_by_role("heading", level=1)).to_have_text("Wąchocka Hanna")
        expect(office.locator(".particulars")).to_contain_text("20 maja 2016")

        # Found while typing, without Polish letters and without pressing Enter.
        office.get_by_role("link", name="Sekretariat").first.click()
        office.get_by_label("Imię, nazwisko, PESEL lub klasa").focus()
        office.keyboard.type("wachock")
        results = office.locator("#search-results")
        expect(results).to_contain_text("Wąchocka Hanna")
        assert "wachock" not in office.url

        # Zosia, found the same way, moves to 5b: the parent's page follows by itself.
        office.get_by_label("Imię, nazwisko, PESEL lub klasa").fill("")
        office.keyboard.type("zosia wisn")
        results.get_by_role("link", name="Wiśniewska Zosia").click()
        office.locator("#transfer select[name=class_id]").focus()
        office.keyboard.type("5b")
        office.get_by_role("button", name="Przenieś / zapisz grupy").focus()
        office.keyboard.press("Enter")
        expect(office.get_by_role("status")).to_contain_text("Zapisano klasę i grupy ucznia.")
        expect(parent.get_by_text("Klasa 5b")).to_be_visible()
    finally:
        for context in (parent_context, office_context):
            context.close()


def test_what_was_typed_before_the_search_script_arrived_is_searched_for(
    office_site: Site, browser: Browser
) -> None:
    """The search field has autofocus, so a secretary on a slow line types before the deferred
    script runs: those keys fired no listener. The script, once there, asks for what the field
    holds. (In CI the click-and-type of the test above once raced the script the same way.)"""
    context = _context(browser, DESKTOP)
    try:
        office = context.new_page()
        log_in(office, office_site.url, office_site.secretary_login)
        held: list[Route] = []
        # Held until the keys are typed. Routing also turns the page's HTTP cache off.
        office.route("**/static/js/office.js*", lambda route: held.append(route))
        office.goto(f"{office_site.url}/office/{office_site.school_id}", wait_until="commit")
        office.get_by_label("Imię, nazwisko, PESEL lub klasa").focus()
        office.keyboard.type("wisniew")
        for _ in range(200):  # the request may start after the field is parsed
            if held:
                break
            office.wait_for_timeout(50)
        results = office.locator("#search-results")
        expect(results).to_be_empty()
        held[0].continue_()
        expect(results.get_by_role("link", name="Wiśniewska Zosia")).to_be_visible()
        expect(office.get_by_label("Imię, nazwisko, PESEL lub klasa")).to_have_value("wisniew")
    finally:
        context.close()
