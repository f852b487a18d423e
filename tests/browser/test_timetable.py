"""The director edits a timetable cell with the keyboard in a real Chromium and sees the clash
before saving, then runs an import's dry run and commits it (issue 14 item 2). Its own server
and world: both change the plan."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ediary.db import Base, db
from ediary.schools.queries import school_today
from ediary.timetable.grid import set_cell
from tests.browser.conftest import DESKTOP
from tests.browser.person import log_in
from tests.factories import SYSTEM, make_world
from tests.servers import running_server
from tests.timetable.helpers import make_plan
from tests.worlds import bound

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).parent.parent / "timetable" / "fixtures" / "asc_plan.xml"


@dataclass(frozen=True)
class Site:
    url: str
    school_id: int
    class_b_id: int
    admin_login: str


def _build(database_url: str) -> Site:
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        plan = make_plan(world)
        # The tutor teaches 5a physics on Monday, lesson 1, in room 14.
        today = school_today(world.school)
        set_cell(
            SYSTEM, world.school, world.class_a, 0, 1, plan.physics_5a, plan.room_b, from_date=today
        )
        db.session.commit()
        return Site("", world.school.id, world.class_b.id, world.school_admin.login)


@pytest.fixture(scope="module")
def plan_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("timetable")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


@pytest.fixture
def admin(plan_site: Site, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, plan_site.url, plan_site.admin_login)
    yield page
    context.close()


def test_a_cell_edited_with_the_keyboard_shows_the_clash_before_saving(
    plan_site: Site, admin: Page
) -> None:
    admin.goto(f"{plan_site.url}/schools/{plan_site.school_id}")
    admin.get_by_role("link", name="Plan lekcji: dzwonki").click()
    admin.get_by_role("link", name="5b", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Plan lekcji: klasa 5b")
    # Monday, lesson 1: reached with the keyboard, opened with Enter.
    admin.get_by_role("link", name="poniedziałek, lekcja 1: wolne").focus()
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("heading", level=1)).to_contain_text("poniedziałek, lekcja 1")
    admin.get_by_label("Przedmiot i nauczyciel").focus()
    admin.keyboard.press("ArrowDown")  # the one assignment of 5b: physics, Jan Kowalski
    expect(admin.get_by_label("Przedmiot i nauczyciel")).to_have_value(
        admin.locator("#assignment option").nth(1).get_attribute("value") or ""
    )
    # While choosing, the list already says the teacher is busy and room 14 is taken.
    expect(admin.locator("#assignment option").nth(1)).to_contain_text("nauczyciel zajęty")
    expect(admin.locator("#room option", has_text="14")).to_contain_text("zajęta")
    admin.keyboard.press("Tab")
    admin.keyboard.type("14")
    admin.keyboard.press("Tab")  # the date
    admin.keyboard.press("Tab")  # "Sprawdź konflikty"
    admin.keyboard.press("Enter")
    clashes = admin.locator("#clashes")
    expect(clashes).to_contain_text("Jan Kowalski ma już wtedy lekcję: fizyka, 5a, sala 14.")
    expect(clashes).to_contain_text("Sala 14 jest wtedy zajęta")
    # Saving anyway is refused, with what clashes, and the choice is kept on the form.
    admin.get_by_role("button", name="Zapisz").focus()
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("alert").first).to_contain_text("Nic nie zapisano")
    expect(admin.get_by_role("alert").first).to_contain_text("Jan Kowalski ma już wtedy lekcję")
    expect(admin.locator("#room option:checked")).to_have_text("14 [zajęta]")


def test_an_import_dry_run_then_commit(plan_site: Site, admin: Page) -> None:
    admin.goto(f"{plan_site.url}/schools/{plan_site.school_id}/plan")
    admin.get_by_role("link", name="Import planu (aSc XML lub CSV)").click()
    admin.get_by_label("Plik z planem").set_input_files(str(FIXTURE))
    admin.get_by_role("button", name="Pokaż, co się zmieni").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Import planu: podgląd")
    refused = admin.locator("#import-rows tr[data-status=refused]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("nieznany nauczyciel „Marek Nowy”")
    expect(admin.locator("#import-counts dd[data-status=new]")).not_to_have_text("0")
    admin.get_by_role("button", name="Zatwierdź import").focus()
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("status").first).to_contain_text("Zaimportowano plan")
    # The same file again: nothing to commit.
    admin.get_by_role("link", name="Import planu (aSc XML lub CSV)").click()
    admin.get_by_label("Plik z planem").set_input_files(str(FIXTURE))
    admin.get_by_role("button", name="Pokaż, co się zmieni").click()
    expect(admin.get_by_text("Plik nie zmienia planu: nie ma czego zatwierdzać.")).to_be_visible()
