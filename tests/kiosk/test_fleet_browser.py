"""The director's fleet page in a real Chromium against a real server, with a real agent
process in the classroom: the page shows the kiosk and its teacher from the heartbeat; a code is
issued as text and QR; revoking it with the keyboard ends the teacher's screen within a second,
and the kiosk keeps its unsent entries."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.person import log_in
from tests.kiosk.conftest import AgentProcess, Screen, Site, wait_until
from tests.kiosk.test_outbox_e2e import grade, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pl-PL")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_the_director_sees_the_kiosk_issues_a_code_and_revokes_it(
    site: Site, make_agent: Callable[..., AgentProcess], page: Any
) -> None:
    agent = make_agent()
    agent.env["EDIARY_KIOSK_HEARTBEAT_SECONDS"] = "0.5"
    assert agent.enroll(site.server.url, site.code()).returncode == 0
    agent.start()
    screen = Screen(agent)
    roster = login(screen, site)
    wait_until(
        lambda: site.query(
            "SELECT teacher_id FROM kiosk_statuses WHERE kiosk_id = ? AND teacher_id IS NOT NULL",
            site.ids["kiosk_id"],
        )
    )

    log_in(page, site.server.url, site.ids["admin_login"])
    page.goto(f"{site.server.url}/schools/{site.ids['school_id']}/kiosks")
    row = page.locator(f"#kiosk-{site.ids['kiosk_id']}")
    expect(row).to_contain_text("działa")
    expect(row).to_contain_text(site.ids["teacher_name"])
    expect(row).to_contain_text("0.1.0")

    # The keyboard: open the kiosk's actions, issue a code.
    summary = row.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    row.get_by_role("button", name="Wydaj kod rejestracji").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#code-text")).to_have_text(re.compile(r"^[A-Z0-9]{5}-[A-Z0-9]{5}$"))
    expect(page.locator("#enrollment-code svg")).to_be_visible()

    # An entry of the lesson; the kiosk keeps every entry through a revocation (unsent ones
    # sync after the next enrollment: test_screens.py::test_revoked_kiosk_keeps_entries_...).
    grade(screen, site, roster["pupils"][2]["id"], "5", "before the revocation")
    kept = sum(agent.status()["outbox"].values())
    row = page.locator(f"#kiosk-{site.ids['kiosk_id']}")
    row.locator("summary").focus()
    page.keyboard.press("Enter")
    row.get_by_label("Tak, odłącz ten komputer").focus()
    page.keyboard.press("Space")
    row.get_by_role("button", name="Odłącz komputer").focus()
    page.keyboard.press("Enter")
    pressed = time.monotonic()
    # The teacher's screen and roster are gone within a second of the press (the page's POST,
    # the commit, the server's cut and the agent's reaction included).
    wait_until(lambda: screen.state()["screen"] == "revoked", timeout=5, interval=0.02)
    took = time.monotonic() - pressed
    assert took < 1.0, f"{took:.2f} s"
    assert screen.state()["session"] is None
    expect(page.get_by_role("status")).to_contain_text("został odłączony od dziennika")
    assert sum(agent.status()["outbox"].values()) == kept
    expect(page.locator(f"#kiosk-{site.ids['kiosk_id']}")).to_contain_text("odłączony")
