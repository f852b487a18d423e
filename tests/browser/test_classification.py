"""Classification in a real Chromium: the teacher proposes a grade from the start page, the
parent's open page shows it live and the parent acknowledges it, the form tutor sees when.

The shared site keeps the suite's clock (a server process) and sets no council date, so nothing
here depends on the day: the deadlines and the lock are tests/classification's, pinned."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP, PHONE, Site, new_page
from tests.browser.person import log_in, storage_holds_nothing_personal

pytestmark = pytest.mark.browser


def test_teacher_proposes_parent_acknowledges_tutor_sees_it(site: Site, browser: Browser) -> None:
    parent_context, parent = new_page(browser, PHONE)
    teacher_context, teacher = new_page(browser, DESKTOP)
    tutor_context, tutor = new_page(browser, DESKTOP)
    try:
        # The parent has the child's proposed grades open, no subject proposed yet (the form
        # tutor may have proposed a behaviour grade: tests/browser/test_council.py, same site).
        log_in(parent, site.url, site.parent_login)
        with parent.expect_navigation():
            parent.locator("nav.children").get_by_role("link", name="Zosia").click()
        with parent.expect_navigation():
            parent.get_by_role("link", name="Oceny przewidywane").click()
        expect(parent.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(parent.locator("[data-part=proposals]")).not_to_contain_text("matematyka")

        # The teacher: start page → the classification of 5a mathematics → a "5" for Zosia.
        log_in(teacher, site.url, site.teacher_login)
        with teacher.expect_navigation():
            teacher.get_by_role("link", name="klasyfikacja").first.click()
        expect(teacher.get_by_role("heading", level=1)).to_contain_text("Klasyfikacja")
        assert re.fullmatch(rf"{re.escape(site.url)}/classification/\d+/\d+", teacher.url)
        row = teacher.get_by_role("row", name=re.compile("Wiśniewska Zosia"))
        row.get_by_label(re.compile("Ocena przewidywana")).fill("5")
        with teacher.expect_navigation():
            row.get_by_role("button", name="Zapisz").click()
        expect(teacher.get_by_text("Zapisano zmienione oceny: 1.")).to_be_visible()

        # The parent's page shows it without a reload; the parent acknowledges it.
        proposals = parent.locator("[data-part=proposals]")
        expect(proposals).to_contain_text("5 (bardzo dobry)")
        with parent.expect_navigation():
            parent.get_by_role("button", name="Zapoznałem się / Zapoznałam się").click()
        expect(parent.locator("#acknowledged")).to_contain_text("Zapoznano się")
        assert storage_holds_nothing_personal(parent)

        # The form tutor sees who acknowledged, and when.
        log_in(tutor, site.url, site.tutor_login)
        with tutor.expect_navigation():
            tutor.get_by_role("link", name="Moja klasa 5a").click()
        acks = tutor.locator("#acknowledgements")
        line = acks.get_by_role("row", name=re.compile("Maria Wisniewska"))
        expect(line).to_contain_text(re.compile(r"\d{1,2}\.\d{2}\.\d{4}, \d{2}:\d{2}"))
    finally:
        for context in (parent_context, teacher_context, tutor_context):
            context.close()
