"""The school administrator plans a substitution in a real Chromium with the keyboard only
(issue 14 item 3): from the school page to the Zastępstwa page, the absent teacher chosen, the
first proposed substitute's button, and the staff room's list shows it. Its own server and world:
the substitution would change the shared one's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from ediary.db import Base, db
from tests.browser.conftest import DESKTOP
from tests.browser.person import log_in
from tests.factories import make_world
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    school_id: int
    admin_login: str


def _build(database_url: str) -> Site:
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        return Site(url="", school_id=world.school.id, admin_login=world.school_admin.login)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("substitutions")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


def _press(page: Page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def test_the_administrator_plans_a_substitution_with_the_keyboard(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, site.url, site.admin_login)
        page.goto(f"{site.url}/schools/{site.school_id}")
        page.get_by_role("link", name="Zastępstwa i odwołane lekcje").focus()
        with page.expect_navigation():
            _press(page, "Enter")
        # Teachers by surname: Kowalski, Nowak, Zielinska; Nowak is absent.
        absent = page.get_by_label("Nieobecny nauczyciel")
        absent.focus()
        _press(page, "ArrowDown", "ArrowDown")
        expect(absent.locator("option:checked")).to_have_text("Nowak Anna")
        # The day's field (today already) has a stop per part: the button is focused directly.
        page.get_by_role("button", name="Pokaż lekcje").focus()
        with page.expect_navigation():
            _press(page, "Enter")
        expect(page.get_by_role("heading", level=3)).to_have_text(
            "Lekcja nr 1: matematyka, 5a, sala 12"
        )
        first = page.get_by_role("button", name="Zastępstwo: Jan Kowalski")
        first.focus()
        with page.expect_navigation():
            _press(page, "Enter")
        expect(page.get_by_role("status")).to_contain_text(
            "Zastępstwo zapisane: Jan Kowalski prowadzi lekcję nr 1."
        )
        expect(page.get_by_text("Zastępstwo: Jan Kowalski.")).to_be_visible()

        page.get_by_role("link", name="Lista zastępstw", exact=False).focus()
        with page.expect_navigation():
            _press(page, "Enter")
        expect(page.locator("tbody tr")).to_have_text(
            "15amatematyka12Anna NowakJan Kowalski", use_inner_text=False
        )
    finally:
        context.close()
