"""The form tutor in a real Chromium: from the start page to "Moja klasa" with the keyboard,
the class's attendance and the guardians' contacts on it; only ids in the URL."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.person import log_in

pytestmark = pytest.mark.browser


def test_the_tutor_opens_the_class_from_the_start_page(site: Site, desktop: Page) -> None:
    log_in(desktop, site.url, site.tutor_login)
    link = desktop.get_by_role("link", name="Moja klasa 5a")
    link.focus()
    expect(link).to_be_focused()
    with desktop.expect_navigation():
        desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Moja klasa 5a")
    assert re.fullmatch(rf"{re.escape(site.url)}/tutor/classes/\d+", desktop.url)
    expect(desktop.locator("#risk")).to_contain_text("Nikt nie jest zagrożony nieklasyfikowaniem.")
    pupils = desktop.locator("#pupils")
    expect(pupils).to_contain_text("matematyka")
    # The shared site's other browser tests take rolls too: a percentage, whatever it is now
    # (the numbers themselves are tests/tutor/test_class.py's, with a pinned clock).
    row = pupils.get_by_role("row", name=re.compile("Wiśniewska Zosia"))
    expect(row).to_contain_text(re.compile(r"\d{1,3},\d%"))
    contacts = desktop.locator("#contacts")
    expect(contacts.get_by_role("row", name=re.compile("Wiśniewska Zosia"))).to_contain_text(
        "Maria Wisniewska"
    )
    queue = desktop.get_by_role("link", name="Kolejka próśb o usprawiedliwienie")
    with desktop.expect_navigation():
        queue.click()
    assert desktop.url == f"{site.url}/excuses"
