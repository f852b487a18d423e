"""The parent's page "Kto oglądał dane dziecka" in Chromium: a teacher opens the child's history
of changes, then the parent, with the keyboard, goes from the portal's start page (the child
chosen in the children bar) to the page and reads the newest line: the teacher's name and role,
what (the history) and when."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, Site, new_page
from tests.browser.person import fits_the_screen, log_in

pytestmark = pytest.mark.browser

PAGE = "Kto oglądał dane dziecka"


def _rows(page: Page, site: Site) -> int:
    page.goto(f"{site.url}/portal/{site.pupil_id}/views")
    return page.locator("[data-part=views] tbody tr").count()


def test_the_parent_sees_the_teacher_who_opened_the_history(
    browser: Browser, site: Site, phone: Page
) -> None:
    log_in(phone, site.url, site.parent_login)
    before = _rows(phone, site)

    context, teacher = new_page(browser, PHONE)
    try:
        log_in(teacher, site.url, site.teacher_login)
        teacher.goto(f"{site.url}/pupils/{site.pupil_id}/history")
        expect(teacher.get_by_role("heading", level=1)).to_be_visible()
    finally:
        context.close()

    phone.goto(f"{site.url}/portal/")
    child = phone.locator(f"nav.children [data-child='{site.pupil_id}']")
    child.focus()
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    link = phone.get_by_role("link", name=PAGE)
    link.focus()
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", level=1)).to_contain_text(PAGE)
    rows = phone.locator("[data-part=views] tbody tr")
    expect(rows).to_have_count(before + 1)
    newest = rows.first
    expect(newest.locator(".who")).to_have_text(site.teacher_name)
    expect(newest).to_contain_text("nauczyciele")
    expect(newest.locator(".what")).to_have_text("historia zmian")
    expect(newest.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    assert fits_the_screen(phone)
