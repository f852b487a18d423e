"""The director opens the new school year's wizard in a real Chromium from the start page,
ticks a repeater with the keyboard and asks for the dry run. The server keeps the suite's clock,
so in term time the year has not ended: the wizard says until when and offers no "apply" (the
apply itself is tested in-process at a pinned end of August, tests/officedata)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from ediary.db import Base, db
from tests.browser.conftest import DESKTOP, new_page
from tests.browser.person import log_in
from tests.factories import make_world
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser
WARSAW = ZoneInfo("Europe/Warsaw")


@dataclass(frozen=True)
class Site:
    url: str
    admin_login: str
    repeater: str


@pytest.fixture(scope="module")
def rollover_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("rollover")
    url = f"sqlite:///{directory / 'ediary.db'}"
    with bound(url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        built = (world.school_admin.login, world.classmate.full_name)
    with running_server(url, directory) as server:
        yield Site(server.url, *built)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context, page = new_page(browser, DESKTOP)
    yield page
    context.close()


def test_the_wizard_shows_the_dry_run_with_a_repeater(rollover_site: Site, page: Page) -> None:
    log_in(page, rollover_site.url, rollover_site.admin_login)
    page.get_by_role("link", name="Nowy rok szkolny").click()
    expect(page.get_by_role("heading", name="Nowy rok szkolny", level=1)).to_be_visible()
    # The suite's clock: during the school year the wizard says until when it lasts (July and
    # August, after the factories' year has ended, it would offer to apply instead).
    summer = dt.datetime.now(WARSAW).month in (7, 8)
    if not summer:
        expect(page.locator("#rollover-refusal")).to_contain_text("trwa do")
    expect(page.get_by_role("heading", name="5a → 6a")).to_be_visible()
    expect(page.locator('dd[data-count="repeats"]')).to_have_text("0")
    box = page.get_by_label(f"{rollover_site.repeater} powtarza klasę")
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.get_by_role("button", name="Pokaż próbę").focus()
    page.keyboard.press("Enter")
    expect(page.locator('dd[data-count="repeats"]')).to_have_text("1")
    expect(page.get_by_label(f"{rollover_site.repeater} powtarza klasę")).to_be_checked()
    apply = page.get_by_role("button", name="Zatwierdź nowy rok szkolny")
    expect(apply).to_have_count(1 if summer else 0)
