"""The gmina's fleet page in Chromium: reached by clicking from the start page, filtered by
state with the keyboard, a kiosk's outage history one click further; no teacher's name anywhere.
Its own server and world (kiosk reports written relative to the suite's clock, which the server
keeps)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db, utcnow
from ediary.kiosks.models import KioskOutage, KioskStatus
from ediary.kiosks.operations import create_kiosk
from tests.browser.conftest import DESKTOP, new_page
from tests.browser.person import log_in
from tests.factories import make_room, make_world
from tests.kiosk_server.conftest import enroll
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    gmina_login: str
    district_id: int
    away_room: str
    spare_room: str
    teacher_names: tuple[str, ...]


def _build(database_url: str) -> Site:
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        enroll(world.kiosk)
        now = utcnow()
        db.session.add(
            KioskStatus(
                kiosk_id=world.kiosk.id,
                connected=False,
                last_seen_at=now - dt.timedelta(minutes=30),
                agent_version="0.1.0",
                outbox_depth=2,
                outbox_parked=0,
                oldest_unsent_at=now - dt.timedelta(minutes=40),
                teacher_id=world.teacher.id,
            )
        )
        db.session.add(
            KioskOutage(
                kiosk_id=world.kiosk.id,
                started_at=now - dt.timedelta(days=1, minutes=20),
                ended_at=now - dt.timedelta(days=1),
                queued=9,
            )
        )
        spare = make_room(world.school, "S7")
        create_kiosk(Actor.system(Channel.CLI), spare)
        return Site(
            url="",
            gmina_login=world.district_admin.login,
            district_id=world.district.id,
            away_room=world.room.name,
            spare_room=spare.name,
            teacher_names=(world.teacher.last_name, world.tutor.last_name),
        )


@pytest.fixture(scope="module")
def fleet_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("fleet")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


def test_the_gmina_finds_its_kiosks_filters_them_and_reads_an_outage_history(
    fleet_site: Site, browser: Browser
) -> None:
    context, page = new_page(browser, DESKTOP)
    try:
        log_in(page, fleet_site.url, fleet_site.gmina_login)
        # The start page's alert leads to the fleet (a kiosk with entries waiting 40 minutes).
        alert = page.get_by_role("alert").filter(has_text="Komputery w salach")
        expect(alert).to_contain_text("wymagają uwagi: 1")
        alert.get_by_role("link").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Komputery w salach")
        table = page.locator("table.fleet")
        expect(table).to_contain_text(fleet_site.away_room)
        expect(table).to_contain_text(fleet_site.spare_room)
        expect(page.locator("section.alert")).to_contain_text(
            "wpis czeka na wysłanie ponad 10 minut"
        )

        # The state filter, by keyboard: only the never-enrolled spare is left.
        page.get_by_role("link", name="niezarejestrowany (1)").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("link", name="niezarejestrowany (1)")).to_have_attribute(
            "aria-current", "page"
        )
        expect(table).to_contain_text(fleet_site.spare_room)
        expect(table.locator("tbody tr")).to_have_count(1)

        page.get_by_role("link", name="bez połączenia (1)").click()
        table.get_by_role("link", name=fleet_site.away_room).click()
        outages = page.locator("table").last
        expect(outages).to_contain_text("trwa")  # silent for 30 minutes now
        expect(outages).to_contain_text("20 min")
        expect(outages).to_contain_text("9")
        for name in fleet_site.teacher_names:
            assert name not in page.content()
    finally:
        context.close()
