"""The kiosk screens in a real headless Chromium, against a real agent and a real server.

A teacher's morning: the lock screen, login, the lesson opening by itself, the roll with two
absences and a topic in four taps, a grade and a remark in three, the per-entry state, the
auto-lock, a browser restart, the offline PIN, and a revoked device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.kiosk.conftest import AgentProcess, Site, wait_until
from tests.kiosk.proxy import Proxy

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Taps:
    """Counts what a person's finger does: every click on the screen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def __call__(self, selector: str) -> None:
        self.count += 1
        self.page.locator(selector).click()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="pl-PL")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def started(
    site: Site,
    make_agent: Callable[..., AgentProcess],
    server_url: str | None = None,
    **options: Any,
) -> AgentProcess:
    agent = make_agent(server_url, **options)
    result = agent.enroll(site.server.url, site.code())
    assert result.returncode == 0, result.stderr
    return agent.start()


def log_in(page: Any, site: Site, pin: str = "") -> None:
    page.locator("#link[data-state=online]").wait_for()
    page.fill("#login", site.ids["teacher_login"])
    page.fill("#password", PASSWORD)
    if pin:
        page.fill("#new-pin", pin)
    page.click("#login-form button[type=submit]")
    page.locator("#lesson").wait_for()


def pupil(n: int) -> str:
    return f"#roster li.pupil:nth-child({n})"


def test_a_lesson_in_four_taps(
    site: Site, make_agent: Callable[..., AgentProcess], page: Any
) -> None:
    agent = started(site, make_agent)
    page.goto(agent.url + "/")

    # The lock screen: room, clock, the lesson now and next, the connection.
    page.locator("#lock").wait_for()
    assert page.text_content("#room") == "Sala 12"
    page.locator("#link[data-state=online]").wait_for()
    assert page.text_content("#link") == "Połączono z serwerem"
    # The room's lessons arrive after the connection does (seen late on a loaded machine).
    page.locator("#lesson-now", has_text="matematyka, 5a, Anna Nowak").wait_for()
    page.locator("#lesson-next", has_text="matematyka, 5b, Ewa Zielinska").wait_for()
    assert page.locator("#roster li").count() == 0

    log_in(page, site)
    # The lesson now opened by itself: everyone present by default, in the server's order.
    page.locator(pupil(25)).wait_for()
    assert page.locator("#roster li.pupil").count() == 25
    assert page.locator("#roster li.pupil[data-state=ob]").count() == 25
    assert "matematyka, 5a" in page.text_content("#lesson-title")

    tap = Taps(page)
    tap(f"{pupil(3)} .mark")
    tap(f"{pupil(7)} .mark")
    assert page.text_content(f"{pupil(3)} .badge") == "nieobecny"
    tap("#topic")
    page.keyboard.type("Dodawanie ułamków o różnych mianownikach")
    tap("#save-roll")
    assert tap.count == 4
    entry = page.locator("#entries li.entry").first
    wait_until(lambda: entry.get_attribute("data-state") in ("synced", "delivered"))
    entry.locator("text=dostarczono rodzicom").wait_for()
    assert "2 nieobecnych" in entry.text_content()

    lesson_id = site.ids["lesson_id"]
    codes = dict(
        site.query(
            "SELECT t.code, COUNT(*) FROM attendance a JOIN attendance_types t ON t.id = a.type_id"
            " WHERE a.lesson_id = ? GROUP BY t.code",
            lesson_id,
        )
    )
    assert codes == {"ob": 23, "nb": 2}
    assert site.query("SELECT topic, status FROM lessons WHERE id = ?", lesson_id) == [
        ("Dodawanie ułamków o różnych mianownikach", "held")
    ]

    # A grade: the pupil's "Ocena", the value, "Zapisz" (the category defaults to the first).
    tap.count = 0
    tap(f"{pupil(4)} [data-role=grade]")
    tap("#grade-values [data-value='5']")
    tap("#grade-save")
    assert tap.count == 3
    page.locator("#entries li.entry[data-state=delivered] >> text=Ocena 5").wait_for()

    # A remark: "Uwaga", the kind, the text, "Zapisz".
    tap.count = 0
    tap(f"{pupil(5)} [data-role=remark]")
    tap("#remark-kinds .positive")
    page.keyboard.type("Pomogła koledze przy tablicy")
    tap("#remark-save")
    assert tap.count == 3
    page.locator("#entries li.entry[data-state=delivered] >> text=Uwaga pozytywna").wait_for()

    names = [page.text_content(f"{pupil(n)} .name").split(". ", 1)[1] for n in (4, 5)]
    grades = site.query(
        "SELECT g.value, c.name, p.last_name || ' ' || p.first_name FROM grades g"
        " JOIN grade_categories c ON c.id = g.category_id"
        " JOIN pupils p ON p.id = g.pupil_id WHERE g.lesson_id = ?",
        lesson_id,
    )
    assert grades == [("5", "sprawdzian", names[0])]
    remarks = site.query(
        "SELECT r.kind, r.text, p.last_name || ' ' || p.first_name FROM remarks r"
        " JOIN pupils p ON p.id = r.pupil_id WHERE r.lesson_id = ?",
        lesson_id,
    )
    assert remarks == [("positive", "Pomogła koledze przy tablicy", names[1])]

    # The logout button locks: nothing of the lesson stays on the page.
    page.click("#lock-now")
    page.locator("#lock").wait_for()
    assert page.locator("#roster li").count() == 0
    assert page.input_value("#topic") == ""
    assert page.context.cookies() == []


def test_idle_lock_and_browser_restart(
    site: Site, make_agent: Callable[..., AgentProcess], page: Any, browser: Any
) -> None:
    agent = started(site, make_agent, idle_lock=2.0)
    page.goto(agent.url + "/")
    log_in(page, site, pin="2580")
    page.locator(pupil(1)).wait_for()
    page.locator("#lock").wait_for(timeout=6_000)  # two seconds without a tap
    assert "bezczynności" in page.text_content("#notice")
    assert page.locator("#roster li").count() == 0

    # The day's PIN reopens it (checked by the server, which is reachable), lesson and all.
    page.click("#pin-teachers >> text=Anna Nowak")
    page.fill("#pin", "9999")
    page.click("#pin-form button[type=submit]")
    page.locator("#pin-error >> text=Nieprawidłowy PIN").wait_for()
    page.fill("#pin", "2580")
    page.click("#pin-form button[type=submit]")
    page.locator(pupil(25)).wait_for()
    assert page.locator("#offline-mode").is_hidden()
    page.locator("#lock").wait_for(timeout=6_000)  # and locks again when left alone

    # A browser restart (Alt+F4, then systemd starts it again) comes back to the lock screen.
    log_in(page, site)
    page.locator(pupil(1)).wait_for()
    page.context.close()
    fresh = browser.new_context().new_page()
    fresh.goto(agent.url + "/")
    fresh.locator("#lock").wait_for()
    assert fresh.locator("#lesson").is_hidden()
    assert fresh.locator("#roster li").count() == 0
    assert fresh.context.cookies() == []
    storage = fresh.evaluate("() => [localStorage.length, sessionStorage.length]")
    assert storage == [0, 0]
    fresh.context.close()


def test_offline_pin_unlock_then_sync(
    site: Site, make_agent: Callable[..., AgentProcess], page: Any, proxy: Proxy
) -> None:
    agent = started(site, make_agent, proxy.url)
    page.goto(agent.url + "/")
    log_in(page, site, pin="1357")
    page.locator(pupil(1)).wait_for()
    page.click("#lock-now")
    page.locator("#lock").wait_for()

    proxy.cut()  # the server is unreachable at the next login
    page.locator("#link[data-state=offline]").wait_for()
    page.fill("#login", site.ids["teacher_login"])
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.locator("#login-error >> text=Serwer jest niedostępny").wait_for()

    page.click("#pin-teachers >> text=Anna Nowak")
    page.fill("#pin", "0000")
    page.click("#pin-form button[type=submit]")
    page.locator("#pin-error >> text=Nieprawidłowy PIN").wait_for()
    page.fill("#pin", "1357")
    page.click("#pin-form button[type=submit]")
    page.locator("#offline-mode").wait_for()
    page.locator(pupil(25)).wait_for()  # the lesson from this computer's copy

    page.click(f"{pupil(10)} [data-role=grade]")
    page.click("#grade-values [data-value='3']")
    page.click("#grade-modifiers [data-mod='+']")
    page.fill("#grade-description", "kartkówka bez sieci")
    page.click("#grade-save")
    entry = page.locator("#entries li.entry >> text=Ocena 3+").locator("..")
    entry.locator("text=zapisano na tym komputerze").wait_for()
    assert site.query("SELECT COUNT(*) FROM grades WHERE description = 'kartkówka bez sieci'") == [
        (0,)
    ]

    proxy.restore()
    page.locator("#link[data-state=online]").wait_for(timeout=15_000)
    wait_until(
        lambda: (
            site.query("SELECT value FROM grades WHERE description = 'kartkówka bez sieci'")
            == [("3+",)]
        )
    )
    entry.locator("text=dostarczono rodzicom").wait_for()


def test_revoked_kiosk_keeps_entries_and_syncs_after_enrolling_again(
    site: Site, make_agent: Callable[..., AgentProcess], page: Any, proxy: Proxy
) -> None:
    agent = started(site, make_agent, proxy.url)
    page.goto(agent.url + "/")
    log_in(page, site)
    page.locator(pupil(1)).wait_for()
    proxy.cut()
    page.locator("#link[data-state=offline]").wait_for()
    page.click(f"{pupil(12)} [data-role=remark]")
    page.click("#remark-kinds .neutral")
    page.keyboard.type("Wpis sprzed wyrejestrowania")
    page.click("#remark-save")
    page.locator("#entries >> text=zapisano na tym komputerze").wait_for()

    site.revoke()
    proxy.restore()
    page.locator("#revoked").wait_for(timeout=15_000)
    assert "wyrejestrowane" in page.text_content("#revoked-message")
    assert "1" in page.text_content("#revoked-queue")
    assert page.locator("#roster li").count() == 0
    assert not (agent.state_dir / "credential.json").exists()
    assert agent.status()["outbox"]["saved"] == 1  # kept, never dropped

    # Enrolled again: the entry waits for its teacher, then goes under the new enrollment.
    result = agent.enroll(site.server.url, site.code())
    assert result.returncode == 0, result.stderr
    page.locator("#lock").wait_for(timeout=15_000)
    log_in(page, site)
    wait_until(
        lambda: (
            site.query("SELECT COUNT(*) FROM remarks WHERE text = 'Wpis sprzed wyrejestrowania'")
            == [(1,)]
        )
    )
    history = site.query(
        "SELECT channel, kiosk_id FROM history WHERE entity = 'remarks'"
        " AND action = 'create' AND json_extract(new, '$.text') = 'Wpis sprzed wyrejestrowania'"
    )
    assert history == [("kiosk", site.ids["kiosk_id"])]
