"""The school administrator cancels a lesson in a real Chromium, with the keyboard only, and the
parent's page (a phone, open meanwhile) shows it live: the example's browser test (README.md,
"Adding a page"). Its own server and world: the cancellation would change the shared one's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

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
    pupil_id: int
    lesson_id: int
    parent_login: str
    admin_login: str


def _build(database_url: str) -> Site:
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        return Site(
            url="",
            pupil_id=world.pupil.id,
            lesson_id=world.lesson.id,
            parent_login=world.parent.login,
            admin_login=world.school_admin.login,
        )


@pytest.fixture(scope="module")
def cancel_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("cancel")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context


def _press(page: Page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def test_the_administrator_cancels_with_the_keyboard_and_the_parent_sees_it_live(
    cancel_site: Site, browser: Browser
) -> None:
    parent_context = _context(browser, PHONE)
    admin_context = _context(browser, DESKTOP)
    try:
        parent = parent_context.new_page()
        log_in(parent, cancel_site.url, cancel_site.parent_login)
        parent.goto(f"{cancel_site.url}/portal/{cancel_site.pupil_id}")
        expect(parent.locator("#live-status")).to_have_attribute("data-state", "live")
        parent.evaluate("window.__sameDocument = true")
        lesson = parent.locator(".lesson", has_text="matematyka")
        expect(lesson).not_to_contain_text("Lekcja odwołana")

        admin = admin_context.new_page()
        log_in(admin, cancel_site.url, cancel_site.admin_login)
        admin.goto(f"{cancel_site.url}/lessons/{cancel_site.lesson_id}")
        confirm = admin.get_by_label("Tak, odwołaj tę lekcję")
        button = admin.get_by_role("button", name="Odwołaj lekcję")

        # Sent without the confirmation: refused on the page, nothing cancelled.
        button.focus()
        _press(admin, "Enter")
        expect(admin.get_by_role("alert")).to_have_text(
            "Nic nie zapisano: Zaznacz „Tak, odwołaj tę lekcję”, aby ją odwołać."
        )
        expect(lesson).not_to_contain_text("Lekcja odwołana")

        # Tick it with Space, Tab to the button, Enter.
        confirm.focus()
        _press(admin, "Space", "Tab")
        expect(button).to_be_focused()
        _press(admin, "Enter")
        expect(admin.get_by_role("status")).to_have_text(
            "Lekcja została odwołana. Rodzice uczniów klasy już to widzą."
        )
        expect(admin.get_by_role("note").filter(has_text="odwołana")).to_have_text(
            "Ta lekcja została odwołana."
        )
        expect(admin.get_by_role("button", name="Odwołaj lekcję")).to_have_count(0)

        expect(parent.locator(".toast").last).to_contain_text("Odwołana lekcja")
        expect(lesson).to_contain_text("Lekcja odwołana")
        assert parent.evaluate("window.__sameDocument") is True  # live, no reload
    finally:
        for context in (parent_context, admin_context):
            context.close()
