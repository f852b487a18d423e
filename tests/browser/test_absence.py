"""The school administrator plans a teacher's absence over two school days in a real Chromium
(issue 14 item 3): from the Zastępstwa page to the range form, the teacher and the dates chosen,
each day's lessons with their proposals preselected, the group lesson merged with the parallel
group, the whole range saved with one button. Counts the person's actions (see the report).
Its own server and world: saving changes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from ediary.db import Base, db
from tests.browser.conftest import DESKTOP
from tests.browser.person import log_in
from tests.factories import cover_days, make_lesson, make_world
from tests.servers import running_server
from tests.substitutions.groups import make_groups
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    school_id: int
    admin_login: str
    first: dt.date
    second: dt.date


def _school_days_ahead() -> tuple[dt.date, dt.date]:
    """The next two weekdays after today (the suite's clock: a server process reads it too)."""
    day = dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()
    found: list[dt.date] = []
    while len(found) < 2:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            found.append(day)
    return found[0], found[1]


def _build(database_url: str) -> Site:
    first, second = _school_days_ahead()
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        cover_days(world, first, second)
        # Day one: 5a's mathematics with Anna Nowak; day two: her English group 1, while
        # group 2 has English with Ewa Zielinska in room 7.
        make_lesson(world.school, world.class_a, world.math, world.teacher, world.room, first)
        make_groups(world, second)
        db.session.commit()
        return Site("", world.school.id, world.school_admin.login, first, second)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("absence")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


def test_the_administrator_plans_two_days_of_absence_with_a_merge(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    actions = 0  # what the person does after logging in: clicks, choices, typed fields
    try:
        page = context.new_page()
        log_in(page, site.url, site.admin_login)
        page.goto(f"{site.url}/schools/{site.school_id}")
        page.get_by_role("link", name="Zastępstwa i odwołane lekcje").click()
        page.get_by_role("link", name="Nieobecność na kilka dni (od – do)").click()
        page.get_by_label("Nieobecny nauczyciel").select_option(label="Nowak Anna")
        page.get_by_label("Od").fill(site.first.isoformat())
        page.get_by_label("Do").fill(site.second.isoformat())
        page.get_by_label("Powód (nieobowiązkowo)").fill("L4")
        page.get_by_role("button", name="Pokaż lekcje").click()
        actions += 7
        days = page.locator("fieldset.absence-day legend")
        expect(days).to_have_count(2)
        expect(days.first).to_contain_text(site.first.isoformat())
        expect(page.get_by_role("heading", level=2)).to_have_text("Lekcje: Anna Nowak (L4)")

        # Day one proposes a free teacher, preselected; day two's group may join group 2.
        maths = page.get_by_label("Lekcja nr 1: matematyka, 5a, sala 12")
        expect(maths.locator("option:checked")).to_contain_text("Zastępstwo: ")
        english = page.get_by_label("Lekcja nr 2: język angielski, 5a (ang. gr. 1), sala 12")
        english.select_option(label="Połącz z grupą: 5a ang. gr. 2, język angielski, sala 7")
        page.get_by_role("button", name="Zapisz cały okres").click()
        actions += 2
        expect(page.get_by_role("status")).to_contain_text("Zapisano 2 lekcji.")
        expect(page.get_by_text("Połączona z inną grupą.")).to_be_visible()
        # The first day's lesson is substituted now: its choice shows who teaches it.
        expect(maths.locator("option:checked")).to_contain_text("Zastępstwo: ")
        assert actions == 9
    finally:
        context.close()
