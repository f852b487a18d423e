"""The director filters the school's change history with the keyboard in a real Chromium
(issue 14 item 6): the channel chosen by typing, the form sent with Enter; the URL holds ids and
codes only, never a child's name. Its own server and world."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.diary.operations import submit_roll
from tests.browser.conftest import DESKTOP, new_page
from tests.browser.person import log_in
from tests.factories import begun, make_world
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    school_id: int
    admin_login: str
    pupil_names: tuple[str, ...]


def _build(database_url: str) -> Site:
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        begun(world.lesson)
        at_kiosk = Actor(world.teacher, Channel.KIOSK, world.kiosk.id)
        submit_roll(at_kiosk, world.lesson, {world.pupil.id: "nb"}, base=None)
        db.session.commit()
        names = (world.pupil.first_name, world.pupil.last_name)
        return Site("", world.school.id, world.school_admin.login, names)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("oversight")
    database_url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(database_url)
    with running_server(database_url, directory) as server:
        yield Site(server.url, built.school_id, built.admin_login, built.pupil_names)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context, opened = new_page(browser, DESKTOP)
    yield opened
    context.close()


def test_the_director_filters_the_history_by_channel_with_the_keyboard(
    site: Site, page: Page
) -> None:
    log_in(page, site.url, site.admin_login)
    page.goto(f"{site.url}/schools/{site.school_id}")
    page.get_by_role("link", name="historia zmian").click()
    expect(page.get_by_role("heading", name="Historia zmian w szkole")).to_be_visible()
    page.get_by_label("Kanał").focus()
    page.keyboard.type("komputer")  # a closed select picks the option typed
    expect(page.get_by_label("Kanał")).to_have_value("kiosk")
    page.get_by_role("button", name="Pokaż").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"channel=kiosk"))
    cells = page.locator("tbody tr td:nth-child(3)")
    expect(cells.first).to_contain_text("komputer w sali")
    for text in cells.all_inner_texts():
        assert text.startswith("komputer w sali")
    assert not any(name in page.url for name in site.pupil_names)
