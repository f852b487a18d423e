"""The behaviour grade in a real Chromium (issue 15 item 5): a teacher gives an opinion from the
start page, the form tutor reads it beside the pupil and sets the proposed and the final grade,
and the council sheet shows it. The server keeps the suite's clock: the term is today's, with no
council date set, so nothing is locked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, Site, new_page
from tests.browser.person import log_in

pytestmark = pytest.mark.browser


def test_an_opinion_then_the_tutors_grade_then_the_sheet(
    site: Site, desktop: Page, browser: Browser
) -> None:
    log_in(desktop, site.url, site.teacher_login)
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Opinie o zachowaniu uczniów").click()
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Klasa 5a").click()
    desktop.get_by_label("Proponowana ocena zachowania: Zosia Wiśniewska").select_option(
        label="bardzo dobre"
    )
    desktop.get_by_label("Uzasadnienie: Zosia Wiśniewska").fill("Pomaga kolegom w nauce.")
    with desktop.expect_navigation():
        desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("status")).to_contain_text("Zapisano opinię o zachowaniu")
    assert "Zosia" not in desktop.url and "Wi" not in desktop.url

    context, tutor = new_page(browser, DESKTOP)
    try:
        log_in(tutor, site.url, site.tutor_login)
        with tutor.expect_navigation():
            tutor.get_by_role("link", name="Ocena zachowania: klasa 5a").click()
        row = tutor.locator("#behaviour tr", has_text="Wiśniewska Zosia")
        expect(row).to_contain_text("Anna Nowak: bardzo dobre: Pomaga kolegom w nauce.")
        row.get_by_label("Ocena przewidywana: Zosia Wiśniewska").select_option(label="bardzo dobre")
        with tutor.expect_navigation():
            row.locator("[data-kind=proposed]").get_by_role("button", name="Zapisz").click()
        expect(tutor.get_by_role("status")).to_contain_text("Zapisano ocenę zachowania")
        row = tutor.locator("#behaviour tr", has_text="Wiśniewska Zosia")
        row.get_by_label("Ocena ustalona: Zosia Wiśniewska").select_option(label="wzorowe")
        with tutor.expect_navigation():
            row.locator("[data-kind=final]").get_by_role("button", name="Zapisz").click()
        with tutor.expect_navigation():
            tutor.get_by_role("link", name="Zestawienie na radę klasyfikacyjną").click()
        assert re.fullmatch(
            rf"{re.escape(site.url)}/council/classes/\d+/sheet\?term=\d+", tutor.url
        )
        sheet_row = tutor.locator(f'tr[data-pupil="{site.pupil_id}"]')
        expect(sheet_row.locator(".behaviour")).to_have_text("wzorowe")
    finally:
        context.close()
