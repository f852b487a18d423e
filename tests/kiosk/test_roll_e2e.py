"""Issue 10 end to end: a real agent, a real server, the web in between, and Chromium.

Item 1: the issue's steps (a kiosk roll, an excuse approved, a change on the web, a new login at
the kiosk, one more absence) keep the excuse and the web change; the kiosk's roster follows
changes made elsewhere while the lesson is open, keeps the teacher's draft with its base, shows
the conflict the server reports, and the teacher decides with one tap. Item 2: a double tap on
"Zapisz" and two parallel requests with one key store one grade.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.factories import PASSWORD
from tests.kiosk.conftest import AgentProcess, Screen, Site, wait_until

pytestmark = pytest.mark.slow
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
WTF_HIDDEN = re.compile(r'<input id="[^"]+" name="([^"]+)" type="hidden" value="([^"]*)"')


class WebTeacher:
    """The teacher on the web page of the lesson, through the login form, as a browser does."""

    def __init__(self, site: Site, login: str) -> None:
        self.url = site.server.url
        self.http = requests.Session()
        page = self.http.get(f"{self.url}/login", timeout=10).text
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        response = self.http.post(
            f"{self.url}/login",
            data={"csrf_token": token.group(1), "login": login, "password": PASSWORD},
            timeout=10,
        )
        assert response.ok, response.status_code

    def change(self, lesson_id: int, states: dict[int, str]) -> requests.Response:
        """Loads the lesson page and saves it with these pupils' selects changed."""
        path = f"{self.url}/lessons/{lesson_id}"
        page = self.http.get(path, timeout=10).text
        data = dict(HIDDEN.findall(page)) | dict(WTF_HIDDEN.findall(page))
        for pupil_id, options in re.findall(
            r'<select id="state-(\d+)" name="state-\d+">(.*?)</select>', page, re.S
        ):
            chosen = re.search(r'<option value="([^"]+)" selected>', options)
            if chosen:
                data[f"state-{pupil_id}"] = chosen.group(1)
        data.update({f"state-{pupil_id}": code for pupil_id, code in states.items()})
        data.pop("next", None)
        return self.http.post(path, data=data, timeout=10, allow_redirects=False)


def codes(site: Site) -> dict[int, str]:
    return dict(
        site.query(
            "SELECT a.pupil_id, t.code FROM attendance a JOIN attendance_types t"
            " ON t.id = a.type_id WHERE a.lesson_id = ?",
            site.ids["lesson_id"],
        )
    )


@pytest.fixture
def agent(site: Site, make_agent: Callable[..., AgentProcess]) -> AgentProcess:
    agent = make_agent()
    result = agent.enroll(site.server.url, site.code())
    assert result.returncode == 0, result.stderr
    return agent.start()


def log_in(screen: Screen, site: Site) -> dict[str, Any]:
    screen.wait_online()
    screen.ok("/api/login", {"login": site.ids["teacher_login"], "password": PASSWORD})
    return screen.ok("/api/lesson", {"lesson_id": site.ids["lesson_id"]})


def synced(screen: Screen, key: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        for entry in screen.state()["session"]["entries"]:
            if entry["key"] == key and entry["state"] in ("synced", "delivered"):
                return dict(entry)
        return None

    return dict(wait_until(found, timeout=20))


def test_the_issue_steps_end_to_end(site: Site, agent: AgentProcess) -> None:
    lesson = site.ids["lesson_id"]
    screen = Screen(agent)
    roster = log_in(screen, site)
    absent, released, late_comer = (p["id"] for p in roster["pupils"][15:18])
    shown = roster["attendance"]

    # The roll at the kiosk: one pupil absent.
    first = screen.ok(
        "/api/roll",
        {
            "lesson_id": lesson,
            "states": {str(absent): "nb"},
            "base": {str(absent): shown.get(str(absent))},
            "key": str(uuid.uuid4()),
        },
    )["entry"]
    synced(screen, first["key"])
    assert codes(site)[absent] == "nb"
    # The parent asks for an excuse; the form tutor approves it.
    assert site.world("excuse", str(absent), str(lesson)) == {"excused": 1}
    # The teacher releases another pupil on the web page.
    web = WebTeacher(site, site.ids["teacher_login"])
    assert web.change(lesson, {released: "zw"}).status_code == 302
    assert codes(site)[absent] == "u" and codes(site)[released] == "zw"

    # At the kiosk again: the screen shows what the server has now, not the first roll.
    screen.ok("/api/lock", {})
    again = log_in(screen, site)
    assert again["attendance"][str(absent)] == "u"
    assert again["attendance"][str(released)] == "zw"
    # One more pupil absent, and "Zapisz".
    entry = screen.ok(
        "/api/roll",
        {
            "lesson_id": lesson,
            "states": {str(late_comer): "nb"},
            "base": {str(late_comer): again["attendance"].get(str(late_comer))},
            "key": str(uuid.uuid4()),
        },
    )["entry"]
    done = synced(screen, entry["key"])

    final = codes(site)
    assert (final[absent], final[released], final[late_comer]) == ("u", "zw", "nb")
    assert done["conflicts"] == []  # nothing overwritten, nothing to report
    after = screen.ok("/api/lesson", {"lesson_id": lesson})["attendance"]
    assert (after[str(absent)], after[str(released)], after[str(late_comer)]) == ("u", "zw", "nb")


def test_parallel_requests_with_one_key_store_one_grade(site: Site, agent: AgentProcess) -> None:
    """Item 2: the same intent sent twice at the same moment (two threads of the local server)."""
    screen = Screen(agent)
    roster = log_in(screen, site)
    pupil = roster["pupils"][20]["id"]
    body = {
        "lesson_id": site.ids["lesson_id"],
        "pupil_id": pupil,
        "category_id": None,
        "value": "4+",
        "description": "równolegle",
        "key": str(uuid.uuid4()),
    }
    start = threading.Barrier(2)
    answers: list[requests.Response] = []

    def send() -> None:
        start.wait()
        answers.append(screen.post("/api/grade", body))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert [a.status_code for a in answers] == [200, 200]
    assert {a.json()["entry"]["key"] for a in answers} == {body["key"]}
    synced(screen, body["key"])
    assert agent.status()["outbox"]["saved"] == 0
    assert site.query("SELECT COUNT(*) FROM grades WHERE description = 'równolegle'") == [(1,)]
    mine = [e for e in screen.state()["session"]["entries"] if "Ocena 4+" in e["summary"]]
    assert len(mine) == 1


# --- in Chromium ------------------------------------------------------------------------------


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="pl-PL")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def open_lesson(page: Any, site: Site, agent: AgentProcess) -> None:
    page.goto(agent.url + "/")
    page.locator("#link[data-state=online]").wait_for()
    page.fill("#login", site.ids["teacher_login"])
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.locator("#roster li.pupil").nth(24).wait_for()


def badge(page: Any, pupil_id: int) -> Any:
    return page.locator(f'#roster li.pupil[data-pupil="{pupil_id}"] .badge')


@pytest.mark.browser
def test_a_double_tap_on_save_stores_one_grade(site: Site, agent: AgentProcess, page: Any) -> None:
    """Item 2: a real double click on the dialog's "Zapisz"."""
    open_lesson(page, site, agent)
    pupil = page.locator("#roster li.pupil").nth(21)
    pupil_id = int(pupil.get_attribute("data-pupil"))
    pupil.locator("[data-role=grade]").click()
    page.click("#grade-values [data-value='2']")
    page.fill("#grade-description", "dwuklik")
    page.dblclick("#grade-save")
    page.locator("#grade-dialog").wait_for(state="hidden")
    page.locator("#entries li.entry >> text=dostarczono rodzicom").first.wait_for()
    page.wait_for_timeout(1500)  # a second entry, if any, would have been sent by now

    assert site.query("SELECT COUNT(*) FROM grades WHERE description = 'dwuklik'") == [(1,)]
    assert site.query("SELECT pupil_id FROM grades WHERE description = 'dwuklik'") == [(pupil_id,)]
    assert page.locator("#entries li.entry", has_text="Ocena 2").count() == 1


@pytest.mark.browser
def test_the_screen_follows_changes_and_the_teacher_decides_a_conflict(
    site: Site, agent: AgentProcess, page: Any
) -> None:
    """Item 1 at the screen: changes made elsewhere redraw the pupils the teacher has not
    touched; a pupil with a draft keeps it (and its base), so saving it reports the conflict
    with both values and who made the other change; one tap applies the teacher's value."""
    lesson = site.ids["lesson_id"]
    open_lesson(page, site, agent)
    ids = [int(li.get_attribute("data-pupil")) for li in page.locator("#roster li.pupil").all()]
    drafted, untouched = ids[10], ids[11]
    # The pupil is absent (a first tap from "obecny", saved).
    page.click(f'#roster li.pupil[data-pupil="{drafted}"] .mark')
    page.click("#save-roll")
    page.locator("#entries li.entry[data-state=delivered]").first.wait_for()
    assert codes(site)[drafted] == "nb"

    # The teacher taps the pupil again: late, not absent (a draft, not saved yet) ...
    page.click(f'#roster li.pupil[data-pupil="{drafted}"] .mark')
    assert badge(page, drafted).text_content() == "spóźniony"
    # ... while the form tutor excuses the absence and the teacher's web page releases another.
    assert site.world("excuse", str(drafted), str(lesson)) == {"excused": 1}
    web = WebTeacher(site, site.ids["teacher_login"])
    assert web.change(lesson, {untouched: "zw"}).status_code == 302

    # The untouched pupil follows the server; the draft stays as the teacher left it.
    wait_until(lambda: badge(page, untouched).text_content() == "zwolniony", timeout=15)
    assert badge(page, drafted).text_content() == "spóźniony"

    page.click("#save-roll")
    conflict = page.locator("#entries li.entry .conflict").first
    conflict.wait_for(timeout=20_000)
    said = conflict.text_content()
    assert "Twój wybór: spóźniony" in said
    assert "zapisane: nieobecny usprawiedliwiony" in said
    assert site.ids["tutor_name"] in said and "przeglądarka" in said
    assert codes(site)[drafted] == "u"  # the excuse stands
    wait_until(lambda: badge(page, drafted).text_content() == "nieobecny usprawiedliwiony")

    # One tap: the teacher's value after all (a new roll, based on the server's value).
    conflict.locator("[data-decision=mine]").click()
    page.locator("#entries .conflict .decided").first.wait_for()
    wait_until(lambda: codes(site)[drafted] == "sp", timeout=20)
    wait_until(lambda: badge(page, drafted).text_content() == "spóźniony")
    assert codes(site)[untouched] == "zw"
