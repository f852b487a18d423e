"""The secretary imports a Windows-1250 CSV in a real Chromium: from the start page to the
upload, the dry run (the file stays on the server), the commit with its progress bar and the
result; then downloads the class list as XLSX and reads it back with openpyxl. Its own server
and world: the import changes them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, FilePayload, Page, Route, expect

from ediary.db import Base, db
from tests.browser.conftest import DESKTOP, new_page
from tests.browser.person import log_in, storage_holds_nothing_personal
from tests.factories import make_world
from tests.officedata.sheets import BORN, csv_text, pesel, row
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser

ROWS = [row(f"Uczeń{n}", "Wąchocki", pesel(BORN, 100 + n), "5a") for n in range(450)]
FILE = csv_text(
    [row("Łucja", "Żółkiewska", pesel(BORN, 1), "5a"), *ROWS, row("Piotr", "Nowak", "123", "5a")]
)


@dataclass(frozen=True)
class Site:
    url: str
    secretary_login: str


@pytest.fixture(scope="module")
def office_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("office")
    url = f"sqlite:///{directory / 'ediary.db'}"
    with bound(url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        secretary = make_world().secretary.login
    with running_server(url, directory) as server:
        yield Site(server.url, secretary)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context, page = new_page(browser, DESKTOP)
    yield page
    context.close()


def test_import_with_dry_run_progress_and_an_xlsx_list(
    office_site: Site, page: Page, tmp_path: Path
) -> None:
    log_in(page, office_site.url, office_site.secretary_login)
    page.get_by_role("link", name="Import uczniów i opiekunów").click()
    upload: FilePayload = {
        "name": "uczniowie.csv",
        "mimeType": "text/csv",
        "buffer": FILE.encode("cp1250"),
    }
    page.get_by_label("Plik").set_input_files(files=[upload])
    page.get_by_label("Plik").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Wczytaj i pokaż próbę", from the keyboard
    expect(page.get_by_role("heading", name="Próba importu")).to_be_visible()
    assert "Żółkiewska" not in page.url and "uczniowie" not in page.url
    expect(page.locator("main")).to_contain_text("Windows-1250")
    expect(page.locator("tr.row-new").first).to_contain_text("Łucja Żółkiewska")
    expect(page.locator("tr.row-refused")).to_contain_text("PESEL")
    expect(page.locator('dd[data-status="new"]')).to_have_text("451")

    # The commit is sent in the background by a deferred script; a click before it has run
    # sends the form as usual (which works, but is not what this test looks at).
    page.wait_for_load_state("domcontentloaded")
    held: list[Route] = []
    page.route("**/commit", lambda route: held.append(route))
    page.get_by_role("button", name="Zatwierdź import").click()
    expect(page.locator("#import-progress")).to_be_visible()  # the bar, while the commit runs
    expect(page.get_by_role("button", name="Zatwierdź import")).to_be_disabled()
    with page.expect_response("**/progress"):
        pass  # the page asks how far the commit has got
    page.wait_for_timeout(50)
    assert held, "the commit was sent in the background"
    held[0].continue_()
    expect(page.locator(".flash.info")).to_contain_text("Zaimportowano: 451 nowych uczniów")
    assert storage_holds_nothing_personal(page)

    page.get_by_role("link", name="ediary").click()
    page.get_by_role("link", name="Listy i eksporty").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Lista uczniów 5a: XLSX").click()
    saved = tmp_path / "lista.xlsx"
    download.value.save_as(saved)
    sheet = load_workbook(saved).worksheets[0]
    surnames = [r[2] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert "Żółkiewska" in surnames and surnames.count("Wąchocki") == 450
