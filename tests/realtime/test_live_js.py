"""live.js in a real headless Chromium against a real server: push, resume, dedupe, reload.

The page under test (tests/realtime/page_app.py) is the smallest page that uses the module the
way a parent's page does (a status element with translated words, an event hook), served by the
real app: the cookie, the CSP, the Origin check and `/static/js/live.js` are the real ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.chromium import launch
from tests.realtime.conftest import Seeded, WebTeacher, journal_ids, login
from tests.servers import Server, running_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(
        seeded.url, tmp_path_factory.mktemp("js"), app="tests.realtime.page_app:app"
    ) as started:
        yield started


@pytest.fixture(scope="module")
def teacher(server: Server, seeded: Seeded) -> WebTeacher:
    return WebTeacher(server.url, login(server.url, seeded.logins["teacher"]), seeded.ids["lesson"])


@pytest.fixture
def page(playwright: Any, server: Server, seeded: Seeded) -> Iterator[Any]:
    browser = launch(playwright)
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{server.url}/login")
    tab.fill("input[name=login]", seeded.logins["parent"])
    tab.fill("input[name=password]", "correct horse battery")
    with tab.expect_navigation():
        tab.click("form.card button[type=submit]")
    assert "/login" not in tab.url, "the parent could not log in"
    yield tab
    browser.close()


def _open(page: Any, server: Server, head: int | None) -> None:
    page.goto(f"{server.url}/live-test" + ("" if head is None else f"?head={head}"))
    _until(page, "document.getElementById('live-status').dataset.state === 'live'")


def _until(page: Any, condition: str, timeout: float = 10.0) -> None:
    """Polls from outside the page: the page's CSP forbids the eval of `wait_for_function`."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({condition})"):
        assert time.monotonic() < deadline, f"not within {timeout}s: {condition}"
        time.sleep(0.05)


def _applied(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("window.applied")


def test_pushes_resume_from_the_stored_id_and_show_the_state(
    page: Any, server: Server, seeded: Seeded, teacher: WebTeacher
) -> None:
    head = journal_ids(seeded.url)[-1].id if journal_ids(seeded.url) else 0
    _open(page, server, head)
    assert page.text_content("#live-status") == "Na żywo"

    teacher.roll({seeded.ids["pupil"]: "nb"})
    _until(page, "window.applied.length === 1")
    event = _applied(page)[0]
    assert event["type"] == "attendance.recorded" and event["code"] == "nb"
    # Only the last applied id is kept in the browser, and only for this tab.
    assert page.evaluate("Object.keys(sessionStorage)") == ["ediary.live.lastId"]
    assert page.evaluate("sessionStorage.getItem('ediary.live.lastId')") == str(event["id"])
    assert page.evaluate("Object.keys(localStorage)") == []

    # The tab leaves; three entries are written meanwhile; it comes back with no page head.
    page.goto("about:blank")
    for code in ("ob", "sp", "nb"):
        teacher.roll({seeded.ids["pupil"]: code})
    _open(page, server, None)
    _until(page, "window.applied.length === 3")
    assert [e["code"] for e in _applied(page)] == ["ob", "sp", "nb"]

    # After a server restart its parents come back spread over 0-5 s, not all within 1.5 s
    # (socket.io-client's defaults): the manager's reconnection settings, as live.js sets them.
    settings = page.evaluate(
        "(m => [m.reconnectionDelay(), m.randomizationFactor(), m.reconnectionDelayMax()])"
        "(window.live.socket.io)"
    )
    assert settings == [2500, 1, 10000]

    # The connection drops and comes back: it resumes, and nothing is applied twice.
    page.evaluate("window.live.socket.io.engine.close()")
    _until(page, "document.getElementById('live-status').dataset.state !== 'live'")
    _until(page, "document.getElementById('live-status').dataset.state === 'live'")
    teacher.roll({seeded.ids["pupil"]: "ob"})
    _until(page, "window.applied.length === 4")
    page.wait_for_timeout(300)
    ids = [e["id"] for e in _applied(page)]
    assert len(ids) == len(set(ids)) == 4 and ids == sorted(ids)


def test_a_reload_instruction_forgets_the_stored_id(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/static/css/ediary.css")  # any page of the origin, to set storage
    page.evaluate("sessionStorage.setItem('ediary.live.lastId', '999999999')")
    page.goto(f"{server.url}/live-test")
    _until(page, "window.reloads.length === 1")
    assert page.evaluate("window.reloads") == ["ahead"]
    assert page.evaluate("sessionStorage.getItem('ediary.live.lastId')") is None
    assert page.text_content("#live-status") == "Brak połączenia"
