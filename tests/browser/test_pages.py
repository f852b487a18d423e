"""People using the pages in a real Chromium against a real server.

A parent on a phone (375×667) follows a child's grades and the average's computation; a teacher
records a roll and a topic; the parent then sees the absence and its history. Nothing about a
child goes into URLs or the browser's storage, and the login form works from the keyboard.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.person import fits_the_screen, log_in, storage_holds_nothing_personal
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_wrong_password_shows_a_polish_error(site: Site, phone: Page) -> None:
    log_in(phone, site.url, site.parent_login, "not the password at all")
    expect(phone.get_by_role("alert")).to_have_text("Nieprawidłowy login lub hasło.")
    expect(phone.locator("html")).to_have_attribute("lang", "pl")
    assert phone.url == f"{site.url}/login"


def test_login_form_works_from_the_keyboard(site: Site, phone: Page) -> None:
    phone.goto(f"{site.url}/login")
    phone.keyboard.press("Tab")
    skip = phone.get_by_role("link", name="Przejdź do treści")
    expect(skip).to_be_focused()  # the first stop, and visible when focused
    expect(skip).to_be_in_viewport()
    for _ in range(6):
        if phone.evaluate("document.activeElement.id") == "login":
            break
        phone.keyboard.press("Tab")
    expect(phone.get_by_label("Login")).to_be_focused()
    phone.keyboard.type(site.tutor_login)
    phone.keyboard.press("Tab")
    expect(phone.get_by_label("Hasło")).to_be_focused()
    phone.keyboard.type(PASSWORD)
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Dzień dobry")
    assert phone.url == f"{site.url}/"


def test_parent_on_a_phone_reads_the_grade_and_how_the_average_is_computed(
    site: Site, phone: Page
) -> None:
    log_in(phone, site.url, site.parent_login)
    phone.goto(f"{site.url}/")  # a parent lands on the portal (issue 5); the card is linked here
    assert fits_the_screen(phone)
    phone.get_by_role("link", name="Zosia Wiśniewska").click()
    assert re.fullmatch(rf"{re.escape(site.url)}/pupils/\d+", phone.url)

    card = phone.locator("article.subject", has_text="matematyka")
    expect(card.locator(".grade").first).to_contain_text("4+")
    expect(card.locator(".grade").first).to_contain_text("sprawdzian · waga 3")
    expect(card.locator(".average")).to_have_text("Średnia ważona: 3,90")
    how = card.locator("details.how")
    expect(how.locator(".sum")).not_to_be_visible()
    how.locator("summary").click()
    expect(how.locator(".sum")).to_have_text("19,50 / 5 = 3,90")
    expect(how).to_contain_text("4+ = 4,50 × 3 = 13,50")
    assert fits_the_screen(phone), "the pupil card scrolls sideways on a phone"
    assert storage_holds_nothing_personal(phone)


def test_teacher_records_an_absence_and_the_parent_sees_it_with_its_history(
    site: Site, desktop: Page, phone: Page
) -> None:
    teacher, parent = desktop, phone  # the classroom computer, the parent's phone
    requested: list[str] = []
    for page in (teacher, parent):
        page.on("request", lambda request: requested.append(unquote(request.url)))

    log_in(teacher, site.url, site.teacher_login)
    teacher.get_by_role("link", name=re.compile(r"^1\. matematyka · 5a")).click()
    assert teacher.url == f"{site.url}/lessons/{site.lesson_id}"
    teacher.get_by_label("Zosia Wiśniewska").select_option("nb")
    teacher.get_by_label("Temat lekcji").fill("Dodawanie ułamków")
    teacher.get_by_role("button", name="Zapisz obecność i temat").click()
    expect(teacher.get_by_role("status")).to_have_text("Zapisano obecność i temat lekcji.")
    expect(teacher.get_by_label("Zosia Wiśniewska")).to_have_value("nb")
    expect(teacher.get_by_label("Temat lekcji")).to_have_value("Dodawanie ułamków")

    log_in(parent, site.url, site.parent_login)
    parent.goto(f"{site.url}/")  # a parent lands on the portal (issue 5); the card is linked here
    parent.get_by_role("link", name="Zosia Wiśniewska").click()
    row = parent.locator("table.attendance tr", has_text="matematyka")
    expect(row).to_contain_text("50,0 % (1 z 2)")
    expect(row).to_contain_text("uwaga: ryzyko nieklasyfikowania")
    expect(parent.locator(".topics")).to_contain_text("Dodawanie ułamków")
    assert fits_the_screen(parent)

    parent.get_by_role("link", name="Historia zmian").click()
    change = parent.locator("li.change", has_text="nieobecny (nb)").first
    expect(change.locator(".old")).to_have_text("obecny (ob)")
    expect(change.locator(".new")).to_have_text("nieobecny (nb)")
    expect(change.locator(".who")).to_have_text(site.teacher_name)
    expect(change.locator(".channel")).to_have_text("przeglądarka")  # the roll: "komputer w sali"
    assert fits_the_screen(parent)

    for page in (teacher, parent):
        assert storage_holds_nothing_personal(page)
    assert requested
    for url in requested:
        for name in site.pupil_names:
            assert name not in url, f"a pupil's name in a URL: {url}"
