"""The grade dialog's other screens (issue 15, item 4), in a real Chromium against a real agent
and server: a correction, a poprawa, a withdrawal and a descriptive grade, each counted in taps
(a new grade takes three: "Ocena", the value, "Zapisz").

- a descriptive grade: "Ocena", "opisowa" (the text box takes the keys), "Zapisz": 3 taps;
- a correction of today's own grade: "Ocena", the grade, the new value, "Zapisz": 4 taps (one
  more than a new grade: which grade); the dialog picks "Korekta" for today's own grade;
- a poprawa: the same four taps on an earlier grade ("Poprawa" is picked for it); of today's
  grade, one tap more on "Poprawa";
- a withdrawal: "Ocena", the grade, "Usuń ocenę": 3 taps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.kiosk.conftest import AgentProcess, Site
from tests.kiosk.test_screens import Taps, log_in, pupil, started

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="pl-PL")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_correct_improve_withdraw_and_describe_within_the_tap_budget(
    site: Site, make_agent: Callable[..., AgentProcess], page: Any
) -> None:
    agent = started(site, make_agent)
    page.goto(agent.url + "/")
    log_in(page, site)
    page.locator(pupil(6)).wait_for()
    lesson_id = site.ids["lesson_id"]
    row = pupil(6)
    name = page.text_content(f"{row} .name").split(". ", 1)[1]
    last, first = name.split(" ", 1)
    (pupil_id,) = site.query(
        "SELECT id FROM pupils WHERE last_name = ? AND first_name = ?", last, first
    )[0]

    def grades() -> list[tuple[Any, ...]]:
        return site.query(
            "SELECT id, value, descriptive, improves_id, removed, version FROM grades"
            " WHERE pupil_id = ? AND lesson_id = ? ORDER BY id",
            pupil_id,
            lesson_id,
        )

    def delivered(text: str) -> None:
        page.locator(f"#entries li.entry[data-state=delivered] >> text={text}").first.wait_for()

    tap = Taps(page)
    # A new grade, as before: three taps.
    tap(f"{row} [data-role=grade]")
    tap("#grade-values [data-value='3']")
    tap("#grade-save")
    delivered("Ocena 3")
    ((first_id, value, *_rest),) = grades()
    assert value == "3"

    # A correction of today's own grade: the grade, the new value, "Zapisz".
    tap.count = 0
    tap(f"{row} [data-role=grade]")
    tap(f"#grade-existing [data-grade='{first_id}']")
    assert "selected" in page.get_attribute("#grade-modes [data-mode=correct]", "class")
    tap("#grade-values [data-value='4']")
    tap("#grade-save")
    assert tap.count == 4
    delivered("Korekta 3 → 4")
    ((same_id, value, _d, _i, removed, version),) = grades()
    assert (same_id, value, removed, version) == (first_id, "4", False, 2)
    history = site.query(
        "SELECT old, new FROM history WHERE entity = 'grades' AND entity_id = ? AND action ="
        " 'update'",
        first_id,
    )
    assert history and '"3"' in history[0][0]  # the old value is kept in the history

    # A poprawa of it (today's: one more tap, on "Poprawa").
    tap.count = 0
    tap(f"{row} [data-role=grade]")
    tap(f"#grade-existing [data-grade='{first_id}']")
    tap("#grade-modes [data-mode=improve]")
    tap("#grade-values [data-value='5']")
    tap("#grade-save")
    assert tap.count == 5
    delivered("Poprawa 4 → 5")
    improved = grades()[-1]
    assert improved[1] == "5" and improved[3] == first_id

    # A withdrawal of the poprawa: the grade, "Usuń ocenę".
    tap.count = 0
    tap(f"{row} [data-role=grade]")
    tap(f"#grade-existing [data-grade='{improved[0]}']")
    tap("#grade-remove")
    assert tap.count == 3
    delivered("Usunięto ocenę 5")
    assert [g[4] for g in grades()] == [False, True]

    # A descriptive grade: "opisowa" puts the keys in its text box.
    tap.count = 0
    tap(f"{row} [data-role=grade]")
    tap("#grade-values [data-value='descriptive']")
    page.keyboard.type("Czyta płynnie i ze zrozumieniem.")
    tap("#grade-save")
    assert tap.count == 3
    delivered("Ocena opisowa")
    described = grades()[-1]
    assert described[1] is None and described[2] == "Czyta płynnie i ze zrozumieniem."
