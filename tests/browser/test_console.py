"""The main pages in a real Chromium log nothing: no console error, no Content-Security-Policy
violation, no failed request (the favicon included); and a form tutor finds the excuse queue by
clicking from the home page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.browser.conftest import Site
from tests.browser.person import log_in

pytestmark = pytest.mark.browser

# Reported to the page as events, whether or not the browser also logs them to the console.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@dataclass
class Complaints:
    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)

    def none(self) -> bool:
        return not (self.console or self.failed or self.csp)


def _watch(page: Page) -> Complaints:
    complaints = Complaints()

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            complaints.console.append(f"{page.url}: {message.text}")

    def response(answer: Response) -> None:
        if answer.status >= 400:
            complaints.failed.append(f"{answer.status} {answer.url}")

    page.add_init_script(WATCH_CSP)
    page.on("console", console)
    page.on("pageerror", lambda error: complaints.console.append(f"{page.url}: {error}"))
    page.on("response", response)
    return complaints


def _visit(page: Page, complaints: Complaints, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")  # the favicon is asked for after the load
    complaints.csp += page.evaluate("window.__cspViolations")


@pytest.fixture
def watched(phone: Page) -> Iterator[tuple[Page, Complaints]]:
    yield phone, _watch(phone)


def test_the_main_pages_log_no_error_and_no_csp_violation(
    site: Site, watched: tuple[Page, Complaints]
) -> None:
    page, complaints = watched
    _visit(page, complaints, f"{site.url}/login")
    log_in(page, site.url, site.parent_login)
    for path in ("/portal/", f"/portal/{site.pupil_id}/grades", "/portal/settings"):
        _visit(page, complaints, f"{site.url}{path}")
    page.context.clear_cookies()
    log_in(page, site.url, site.tutor_login)
    for path in ("/", "/excuses", f"/pupils/{site.pupil_id}", f"/lessons/{site.lesson_id}"):
        _visit(page, complaints, f"{site.url}{path}")
    assert complaints.none(), complaints


def test_the_site_has_an_icon(site: Site, watched: tuple[Page, Complaints]) -> None:
    page, complaints = watched
    icon = page.request.get(f"{site.url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] in (
        "image/vnd.microsoft.icon",
        "image/x-icon",
    )
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    _visit(page, complaints, f"{site.url}/login")
    linked = page.locator('link[rel="icon"]').get_attribute("href")
    assert linked is not None and not linked.startswith("data:")
    assert page.request.get(f"{site.url}{linked}").status == 200


def test_a_form_tutor_clicks_from_the_home_page_to_the_excuse_queue(
    site: Site, watched: tuple[Page, Complaints]
) -> None:
    page, complaints = watched
    log_in(page, site.url, site.tutor_login)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dzień dobry")
    page.get_by_role("link", name="Usprawiedliwienia do rozpatrzenia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Usprawiedliwienia do rozpatrzenia")
    assert page.url == f"{site.url}/excuses"
    assert complaints.none(), complaints
