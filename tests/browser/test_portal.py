"""The portal in a real Chromium against a real server (gunicorn + gevent, one per module).

A parent on a phone (375×667): lands on the portal after login, reads a child's day, sees a
teacher's change arrive live (no reload), asks for an excuse that the form tutor approves in
another browser, and sees "usprawiedliwiona" arrive live. Every page passes axe-core (no serious
or critical violations), fits 360 px and a desktop, keeps nothing but the last event id in
storage and no name in any URL; the "today" page's cold load stays within 100 KB and 6 requests.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.diary.operations import submit_roll
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.person import (
    LIVE_CURSOR,
    fits_the_screen,
    log_in,
    storage_holds_nothing_personal,
    stored,
)
from tests.factories import PASSWORD, begun, make_graded_world
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser
# axe-core is installed from tests/portal/package.json (its lock pins the version).
HERE = Path(__file__).resolve().parent.parent / "portal"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
NARROW = {"width": 360, "height": 740}


@dataclass(frozen=True)
class Site:
    url: str
    pupil_id: int
    sibling_id: int
    lesson_id: int
    names: tuple[str, ...]


def _build(database_url: str) -> Site:
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world, earlier = make_graded_world()
        begun(world.lesson)  # the teacher records its roll through the server, below
        teacher = Actor(world.teacher, Channel.WEB)
        submit_roll(teacher, earlier, {world.pupil.id: "nb"}, topic="Dodawanie ułamków", base=None)
        pupils = (world.pupil, world.sibling, world.classmate, world.pupil_b)
        return Site(
            url="",
            pupil_id=world.pupil.id,
            sibling_id=world.sibling.id,
            lesson_id=world.lesson.id,
            names=tuple(n for p in pupils for n in (p.first_name, p.last_name)),
        )


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core from the npm registry, pinned in tests/portal/package-lock.json."""
    if not AXE.exists():
        subprocess.run(
            ["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def portal_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    """Its own server and world (tests/browser's `site` is the pupil card's), per module."""
    directory = tmp_path_factory.mktemp("portal")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory, EDIARY_EXCUSE_NOTES_DIR=str(directory / "notes")) as s:
        yield Site(**{**built.__dict__, "url": s.url})


def _context(browser: Browser, viewport: dict[str, int], **options: object) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale="pl-PL", **options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context


def _sticking_out(page: Page) -> list[str]:
    """Elements of the main content reaching past the right edge (a form wider than a phone)."""
    return list(
        page.evaluate(
            "() => [...document.querySelectorAll('main *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)"
        )
    )


def _axe(page: Page, source: str) -> list[str]:
    page.evaluate(source)  # the context bypasses the page's CSP for this
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"
    )
    return list(result)


def test_the_parent_lands_on_the_portal_and_every_page_is_accessible_and_fits(
    portal_site: Site, browser: Browser, axe_source: str
) -> None:
    requested: list[str] = []
    for viewport in (NARROW, DESKTOP):
        context = _context(browser, viewport, bypass_csp=True)
        page = context.new_page()
        page.on("request", lambda r: requested.append(unquote(r.url)))
        log_in(page, portal_site.url, "maria_wisniewska")
        expect(page).to_have_url(
            f"{portal_site.url}/portal/{portal_site.sibling_id}"
        )  # Staś, then Zosia
        page.get_by_role("navigation", name="Dzieci").get_by_role("link", name="Zosia").click()
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(page.locator("h1")).to_have_text("Zosia Wiśniewska")
        sections = page.get_by_role("navigation", name="Sekcje")
        for name in ("Dziś", "Tydzień", "Oceny", "Oceny przewidywane", "Frekwencja", "Uwagi",
                     "Tematy", "Usprawiedliwienia", "Zachowanie", "Historia zmian"):  # fmt: skip
            sections.get_by_role("link", name=name, exact=True).click()
            expect(sections.get_by_role("link", name=name, exact=True)).to_have_attribute(
                "aria-current", "page"
            )
            assert fits_the_screen(page), f"{name} scrolls sideways at {viewport['width']} px"
            assert _sticking_out(page) == [], name
            assert _axe(page, axe_source) == [], name
        page.get_by_role("link", name="Powiadomienia").click()
        # A new page, not a section of this one: wait for it before measuring it.
        expect(page.get_by_role("heading", level=1)).to_have_text("Powiadomienia")
        assert fits_the_screen(page) and _axe(page, axe_source) == []
        assert storage_holds_nothing_personal(page)
        context.close()
    for url in requested:
        for name in portal_site.names:
            assert name not in url, f"a pupil's name in a URL: {url}"


def test_grades_show_the_average_and_how_it_was_computed(portal_site: Site, phone: Page) -> None:
    log_in(phone, portal_site.url, "maria_wisniewska")
    phone.goto(f"{portal_site.url}/portal/{portal_site.pupil_id}/grades")
    card = phone.locator("article.subject", has_text="matematyka")
    expect(card.locator(".average")).to_have_text("Średnia ważona: 3,90")
    card.locator("details.how summary").click()
    expect(card.locator(".sum")).to_have_text("19,50 / 5 = 3,90")
    phone.goto(f"{portal_site.url}/portal/{portal_site.pupil_id}/attendance")
    expect(phone.locator(".bar-row", has_text="matematyka")).to_contain_text("0,0 %")


def test_a_teachers_change_and_an_excuse_decision_arrive_live(
    portal_site: Site, browser: Browser
) -> None:
    parent_context = _context(browser, PHONE)
    teacher_context = _context(browser, DESKTOP)
    tutor_context = _context(browser, DESKTOP)
    try:
        parent = parent_context.new_page()
        log_in(parent, portal_site.url, "maria_wisniewska")
        parent.goto(f"{portal_site.url}/portal/{portal_site.pupil_id}")
        expect(parent.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(parent.locator("#live-status")).to_have_text("Na żywo")
        parent.evaluate("window.__sameDocument = true")
        lesson_one = parent.locator(".lesson", has_text="matematyka").first

        # A teacher records the first lesson's roll on the server: Zosia is absent.
        teacher = teacher_context.new_page()
        log_in(teacher, portal_site.url, "anna_nowak")
        teacher.goto(f"{portal_site.url}/lessons/{portal_site.lesson_id}")
        teacher.get_by_label("Zosia Wiśniewska").select_option("nb")
        teacher.get_by_role("button", name="Zapisz obecność i temat").click()
        expect(parent.locator(".toast").last).to_contain_text("Zosia · Frekwencja: nieobecny")
        expect(lesson_one).to_contain_text("nieobecny")
        assert parent.evaluate("window.__sameDocument") is True  # no reload

        # The parent asks for an excuse; the tutor approves it in another browser.
        parent.get_by_role("link", name="Usprawiedliw nieobecność").click()
        parent.locator('input[name="absence"]').first.check()
        parent.locator('input[name="absence"]').nth(1).check()
        parent.get_by_label("Powód nieobecności").fill("Gorączka, wizyta u lekarza.")
        parent.get_by_role("button", name="Wyślij do wychowawcy").click()
        expect(parent.get_by_role("status").filter(has_text="Wysłano")).to_be_visible()
        request = parent.locator("[data-part=excuses] li").first
        expect(request).to_contain_text("oczekuje")
        parent.evaluate("window.__sameDocument = true")

        tutor = tutor_context.new_page()
        log_in(tutor, portal_site.url, "jan_kowalski")
        tutor.goto(f"{portal_site.url}/excuses")
        tutor.get_by_role("checkbox", name=re.compile("Zosia Wiśniewska")).check()
        tutor.get_by_role("button", name="Zatwierdź zaznaczone").click()
        expect(tutor.get_by_role("status")).to_contain_text("usprawiedliwiono nieobecności: 2")

        expect(request).to_contain_text("usprawiedliwiona")
        expect(parent.locator(".toast").last).to_contain_text("Usprawiedliwienie")
        assert parent.evaluate("window.__sameDocument") is True
        assert set(stored(parent)) == {LIVE_CURSOR}
        parent.get_by_role("navigation", name="Sekcje").get_by_role("link", name="Dziś").click()
        expect(lesson_one).to_contain_text("nieobecny usprawiedliwiony")
    finally:
        for context in (parent_context, teacher_context, tutor_context):
            context.close()


def _log_in_without_a_page(context: BrowserContext, url: str, login: str) -> None:
    """Logs the context in through the form's HTTP request alone: the browser's cache stays
    empty, so the next page load is a cold one."""
    form = context.request.get(f"{url}/login").text()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    answer = context.request.post(
        f"{url}/login",
        form={"csrf_token": token.group(1), "login": login, "password": PASSWORD},
        max_redirects=0,
    )
    assert answer.status == 302


def test_the_today_page_cold_load_is_light(portal_site: Site, browser: Browser) -> None:
    context = _context(browser, PHONE)
    try:
        page = context.new_page()
        _log_in_without_a_page(context, portal_site.url, "maria_wisniewska")
        finished = []
        page.on("requestfinished", lambda r: finished.append(r))
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(f"{portal_site.url}/portal/{portal_site.pupil_id}")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        http = [r for r in finished if not r.url.startswith("data:")]
        # Bytes on the wire: response headers and body (no compression between here and the
        # server; behind nginx with gzip it is less), plus the request headers.
        total = 0
        for request in http:
            sizes = request.sizes()
            total += sizes["responseHeadersSize"] + sizes["responseBodySize"]
            total += sizes["requestHeadersSize"]
        assert len(http) <= 6, [r.url for r in http]
        assert total <= 100 * 1024, total
        assert len(sockets) == 1  # the live connection, opened after the load
        assert all(r.url.startswith(portal_site.url) for r in http)
    finally:
        context.close()


def test_a_note_over_the_limit_is_refused_in_the_browser_and_nothing_is_sent(
    portal_site: Site, browser: Browser
) -> None:
    """A 5 MB PDF (no image to shrink): the message next to the input, no request, the typed
    reason still there (issue 11: it used to be a bare "413 Request Entity Too Large")."""
    context = _context(browser, PHONE)
    try:
        page = context.new_page()
        log_in(page, portal_site.url, "maria_wisniewska")
        page.goto(f"{portal_site.url}/portal/{portal_site.pupil_id}/excuses")
        page.get_by_label("Powód nieobecności").fill("Wizyta u ortodonty.")
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
        pdf = b"%PDF-1.4\n" + b"0" * (5 * 1000 * 1000)
        page.get_by_label("Zdjęcie zwolnienia (nieobowiązkowe)").set_input_files(
            {"name": "zwolnienie.pdf", "mimeType": "application/pdf", "buffer": pdf}
        )
        message = page.locator("#note-error")
        expect(message).to_be_visible()
        expect(message).to_contain_text("Ten plik jest za duży (5 MB)")
        page.get_by_role("button", name="Wyślij do wychowawcy").click()
        page.wait_for_timeout(300)  # long enough for a submission to have started
        assert sent == []
        expect(page.get_by_label("Powód nieobecności")).to_have_value("Wizyta u ortodonty.")
        expect(page.get_by_label("Zdjęcie zwolnienia (nieobowiązkowe)")).to_be_focused()
    finally:
        context.close()
