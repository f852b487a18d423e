"""Messages and announcements in a real Chromium (issue 18): a parent writes to the form tutor,
whose open inbox shows it live; the tutor reads it and the parent's open thread says
"przeczytano"; the tutor writes to the class's parents; the director's announcement appears on
the parent's start page. (That it disappears after its expiry needs a pinned clock, which a
server process does not have: tests/messages/test_announcements.py.)"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, Site, new_page
from tests.browser.person import log_in, storage_holds_nothing_personal

pytestmark = pytest.mark.browser

DIRECTOR = "dyrektor_szkoly"  # tests/factories.py, make_world


def _live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def _write(page: Page, subject: str, body: str) -> None:
    page.get_by_label("Temat").fill(subject)
    page.get_by_label("Treść").fill(body)
    with page.expect_navigation():
        page.get_by_role("button", name="Wyślij").click()


def test_a_parent_and_the_tutor_write_and_read_live(site: Site, browser: Browser) -> None:
    tag = uuid.uuid4().hex[:6]
    parent_context, parent = new_page(browser, PHONE)
    tutor_context, tutor = new_page(browser, DESKTOP)
    director_context, director = new_page(browser, DESKTOP)
    try:
        # The tutor's inbox is open, from the start page.
        log_in(tutor, site.url, site.tutor_login)
        with tutor.expect_navigation():
            tutor.get_by_role("link", name="Wiadomości").first.click()
        _live(tutor)

        # The parent writes from the portal to the form tutor.
        log_in(parent, site.url, site.parent_login)
        parent.goto(f"{site.url}/portal/")
        with parent.expect_navigation():
            parent.get_by_role("link", name="Wiadomości").first.click()
        with parent.expect_navigation():
            parent.get_by_role("link", name="Napisz wiadomość").click()
        option = parent.locator("select[name=recipient] option", has_text="wychowawca 5a")
        parent.get_by_label("Do", exact=True).select_option(option.get_attribute("value"))
        _write(parent, f"Wycieczka {tag}", "Czy <b>jedziemy</b> w piątek?")
        expect(parent.get_by_text("Wiadomość wysłana.")).to_be_visible()

        # Live in the tutor's inbox, without a reload.
        row = tutor.locator("tr", has_text=f"Wycieczka {tag}")
        expect(row).to_have_class("unread")
        # The parent opens the thread: not read yet.
        with parent.expect_navigation():
            parent.get_by_role("link", name=f"Wycieczka {tag}").click()
        _live(parent)
        expect(parent.locator(".receipt").last).to_have_text("nieprzeczytana")
        expect(parent.locator(".message .body").last).to_have_text("Czy <b>jedziemy</b> w piątek?")

        # The tutor reads it; the parent's open thread says so, live.
        with tutor.expect_navigation():
            row.get_by_role("link").click()
        expect(parent.locator(".receipt").last).to_contain_text("przeczytano: Jan Kowalski")

        # The parent is on the portal's start page; the tutor writes to the parents of the
        # class: the inbox badge in the header counts it, live.
        parent.goto(f"{site.url}/portal/")
        _live(parent)
        tutor.goto(f"{site.url}/messages")
        with tutor.expect_navigation():
            tutor.get_by_role("link", name="Napisz do rodziców klasy").click()
        tutor.get_by_label("Klasa").select_option(label="5a")
        _write(tutor, f"Zebranie {tag}", "Zapraszam w czwartek o 17:00.")
        expect(tutor.get_by_text("Wiadomość wysłana do rodziców klasy 5a")).to_be_visible()
        expect(parent.locator("[data-inbox] .badge")).to_have_text(re.compile(r"^[1-9]\d*$"))

        # The director announces to the school: the parent's open start page shows it, live.
        log_in(director, site.url, DIRECTOR)
        with director.expect_navigation():
            director.get_by_role("link", name="Ogłoszenia").first.click()
        director.get_by_label("Tytuł").fill(f"Dzień otwarty {tag}")
        director.get_by_label("Treść").fill("Zapraszamy rodziców w sobotę.")
        expiry = director.get_by_label("Ważne do (włącznie)")
        expiry.fill(expiry.get_attribute("min") or "")
        with director.expect_navigation():
            director.get_by_role("button", name="Opublikuj").click()
        expect(director.get_by_text("Ogłoszenie opublikowane.")).to_be_visible()
        expect(parent.locator(".announcement", has_text=f"Dzień otwarty {tag}")).to_be_visible()
        parent.goto(f"{site.url}/messages")
        expect(parent.locator("tr.unread", has_text=f"Zebranie {tag}")).to_be_visible()

        # The parent answers the letter privately; the tutor's start page counts it, live.
        tutor.goto(site.url)
        _live(tutor)
        expect(tutor.locator("[data-inbox] .badge")).to_have_count(0)
        with parent.expect_navigation():
            parent.get_by_role("link", name=f"Zebranie {tag}").click()
        parent.get_by_label("Treść").fill("Będę.")
        with parent.expect_navigation():
            parent.get_by_role("button", name="Odpowiedz").click()
        expect(tutor.locator("[data-inbox] .badge")).to_have_text("1")
        assert storage_holds_nothing_personal(parent)
    finally:
        for context in (parent_context, tutor_context, director_context):
            context.close()
