"""The staff console and two-factor login in a real Chromium, with the keyboard where a person
types: a secretary enrols an authenticator (pyotp plays the phone) and logs in with a code; the
director creates a teacher, prints the letter, and the letter's code activates the account.
Its own server and world: the tests create accounts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from ediary.db import Base, db
from tests import twofactor
from tests.browser.conftest import DESKTOP, new_page
from tests.browser.person import CODE_FIELD, log_in
from tests.factories import make_world
from tests.servers import running_server
from tests.staff.helpers import codes_in, pdf_pages
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    school: str
    secretary_login: str
    admin_login: str


def _build(database_url: str) -> Site:
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        db.session.commit()
        return Site("", world.school.name, world.secretary.login, world.school_admin.login)


@pytest.fixture(scope="module")
def staff_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("staff")
    database_url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(database_url)
    with running_server(database_url, directory) as server:
        yield Site(server.url, built.school, built.secretary_login, built.admin_login)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context, opened = new_page(browser, DESKTOP)
    yield opened
    context.close()


def test_a_secretary_enrols_an_authenticator_then_logs_in_with_its_code(
    browser: Browser, staff_site: Site, page: Page
) -> None:
    page.goto(f"{staff_site.url}/login")
    page.get_by_label("Login").fill(staff_site.secretary_login)
    page.get_by_label("Hasło").fill("correct horse battery")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login/enrol$"))
    expect(page.get_by_role("heading", name="Włącz logowanie dwuskładnikowe")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    code_field = page.get_by_label(CODE_FIELD)
    expect(code_field).to_be_focused()  # the person types at once
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Nieprawidłowy kod")
    code = twofactor.enrol_code(staff_site.url, staff_site.secretary_login, page.content())
    page.get_by_label(CODE_FIELD).fill(code)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Kody zapasowe")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="Zapisałem kody, przejdź dalej").click()
    # A secretary's start page is the school's office (issue 13).
    expect(page).to_have_url(re.compile(r"/office/\d+$"))

    context, later = new_page(browser, DESKTOP)
    try:
        log_in(later, staff_site.url, staff_site.secretary_login)  # password, then the code
        expect(later).to_have_url(re.compile(r"/office/\d+$"))
        office = later.get_by_role("heading", level=1, name=re.compile("Sekretariat"))
        expect(office).to_be_visible()
    finally:
        context.close()


def test_the_director_creates_a_teacher_and_prints_the_activation_letter(
    browser: Browser, staff_site: Site, page: Page
) -> None:
    log_in(page, staff_site.url, staff_site.admin_login)
    page.get_by_role("link", name=staff_site.school, exact=True).click()
    page.get_by_role("link", name="Konta pracowników").click()
    page.get_by_role("link", name="Nowe konto pracownika").click()
    page.get_by_label("Imię").fill("Jędrzej")
    page.keyboard.press("Tab")
    page.keyboard.type("Wąchocki")
    page.get_by_label("Login", exact=True).fill("jedrzej.wachocki")
    page.get_by_label("nauczyciel", exact=True).focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("nauczyciel", exact=True)).to_be_checked()
    page.get_by_role("button", name="Utwórz konto i pokaż list aktywacyjny").click()
    letter = page.locator(".letter")
    expect(letter).to_contain_text("Jędrzej Wąchocki")
    expect(letter).to_contain_text("jedrzej.wachocki")
    expect(letter.locator(".qr svg")).to_be_visible()
    [shown_code] = codes_in(letter.inner_text())

    # The member page: a PDF of a new letter (the shown one's code stops working).
    page.get_by_role("link", name="Wróć").click()
    expect(page.get_by_role("heading", name="Jędrzej Wąchocki")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Pobierz PDF").click()
    data = download.value.path().read_bytes()
    [text] = pdf_pages(data)
    assert "Jędrzej Wąchocki" in text and "jedrzej.wachocki" in text
    [code] = codes_in(text)
    assert code != shown_code

    # The teacher activates with the PDF's code, through the letter's address.
    context, teacher = new_page(browser, DESKTOP)
    try:
        teacher.goto(f"{staff_site.url}/activate?login=jedrzej.wachocki")
        expect(teacher.get_by_label("Login")).to_have_value("jedrzej.wachocki")
        teacher.get_by_label("Kod aktywacyjny ze szkoły").fill(code)
        teacher.get_by_label("Nowe hasło (co najmniej 12 znaków)").fill("kot Filemon lubi pierogi")
        teacher.get_by_label("Powtórz nowe hasło").fill("kot Filemon lubi pierogi")
        teacher.keyboard.press("Enter")
        expect(teacher.get_by_text("Konto jest aktywne")).to_be_visible()
    finally:
        context.close()
