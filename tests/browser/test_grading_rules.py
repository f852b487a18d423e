"""The school administrator changes a category's weight in a real Chromium with the keyboard:
the preview says which averages would move, then the rules are saved. Its own server and world:
saving would change the shared one's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from ediary.db import Base, db
from tests.browser.conftest import DESKTOP
from tests.browser.person import log_in
from tests.factories import make_graded_world
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
        world, _earlier = make_graded_world()  # 4+ (sprawdzian, 3) and 3 (kartkówka, 2) in 5a
        return Site("", world.school.id, world.school_admin.login)


@pytest.fixture(scope="module")
def rules_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("rules")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


def test_the_administrator_previews_a_weight_and_saves_it_with_the_keyboard(
    rules_site: Site, browser: Browser
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, rules_site.url, rules_site.admin_login)
        page.goto(f"{rules_site.url}/schools/{rules_site.school_id}")
        link = page.get_by_role("link", name="Zasady oceniania (statut)")
        link.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Zasady oceniania (statut)")

        weight = page.get_by_label("sprawdzian", exact=True)
        weight.focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("1")
        page.keyboard.press("Enter")  # the form's first button: the preview
        preview = page.locator("#preview")
        expect(preview).to_contain_text("5a matematyka: 1 średnich się zmieni")
        expect(preview).to_contain_text("3,90 → 3,50")
        expect(page.get_by_label("sprawdzian", exact=True)).to_have_value("1")

        page.get_by_role("button", name="Pokaż, które średnie się zmienią").focus()
        page.keyboard.press("Tab")
        save = page.get_by_role("button", name="Zapisz zasady")
        expect(save).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Zasady oceniania zapisane.")
        expect(page.get_by_label("sprawdzian", exact=True)).to_have_value("1")
        expect(page.locator("#preview")).to_have_count(0)

        # The rules are the school year's: the year is chosen on the page (the current one).
        chosen = page.get_by_label("Rok szkolny").locator("option:checked")
        name = chosen.inner_text()
        page.get_by_role("button", name="Pokaż zasady roku").click()
        expect(
            page.get_by_role("heading", level=2, name=f"Zasady roku szkolnego {name}")
        ).to_be_visible()
        expect(page.get_by_label("sprawdzian", exact=True)).to_have_value("1")
    finally:
        context.close()
