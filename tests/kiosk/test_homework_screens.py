"""A test announced at the kiosk (issue 18) in a real Chromium, against a real agent and a real
server: "Zapowiedź", the day, the text, "Zapisz"; on a day over the statute's limit the dialog
shows the server's warning and "Zapisz mimo to" (one tap more). The entry goes through the
agent's outbox like any other and reaches the parents (its state: delivered)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.kiosk.conftest import AgentProcess, Site
from tests.kiosk.test_screens import Taps, log_in, started

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="pl-PL")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_fourth_test_of_the_week_is_warned_and_confirmed_within_four_taps(
    site: Site, make_agent: Callable[..., AgentProcess], page: Any
) -> None:
    week = site.world("homework-week")
    thursday = week["dates"][3]
    agent = started(site, make_agent)
    page.goto(agent.url + "/")
    log_in(page, site)
    page.locator("#roster li.pupil").first.wait_for()

    tap = Taps(page)
    tap("#homework-open")
    chip = f"#homework-dates [data-date='{thursday}']"
    page.locator(chip).wait_for()
    assert "warned" in page.get_attribute(chip, "class")
    tap(chip)
    page.keyboard.type("Potęgi i pierwiastki")
    tap("#homework-save")
    warning = page.locator("#homework-warning-text")
    warning.wait_for()
    assert "w tym tygodniu jest już: 3" in warning.text_content()
    assert site.query("SELECT count(*) FROM homework")[0][0] == 3  # nothing kept before the "yes"
    tap("#homework-confirm")
    assert tap.count == 4
    page.locator(
        "#entries li.entry[data-state=delivered] >> text=Potęgi i pierwiastki"
    ).first.wait_for()
    rows = site.query(
        "SELECT kind, date, description, lesson_id FROM homework WHERE description = ?",
        "Potęgi i pierwiastki",
    )
    assert rows == [("test", thursday, "Potęgi i pierwiastki", week["lesson_ids"][3])]
    events = site.query("SELECT count(*) FROM journal WHERE type = 'homework.changed'")
    assert events[0][0] == 4
    channel = site.query(
        "SELECT channel FROM history WHERE entity = 'homework' ORDER BY id DESC LIMIT 1"
    )
    assert channel == [("kiosk",)]
