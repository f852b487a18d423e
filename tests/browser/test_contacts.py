"""A parent's contacts in Chromium, with the keyboard: from the portal's start page to
"Moje dane kontaktowe", a new phone and e-mail typed and saved with Enter, a wrong SMS code
refused on the form (kept), the right one accepted, and the e-mail's link confirmed.

Its own small site (the session's browser site keeps its database file to itself): the
factories' world in a SQLite file and a real server process; the codes and links are read from
the queue, where the SMS and e-mail gateways would take them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ediary.db import Base, db
from tests.browser.person import fits_the_screen, log_in
from tests.factories import make_world
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class ContactsSite:
    url: str
    db: Path
    parent_login: str
    secretary_login: str
    parent_name: str

    def proof(self, channel: str) -> str:
        """The body of the newest proof queued for `channel` ("email" or "sms")."""
        conn = sqlite3.connect(self.db, timeout=10)
        try:
            (payload,) = conn.execute(
                "SELECT payload FROM outgoing_messages WHERE kind = 'verify' AND channel = ?"
                " ORDER BY id DESC LIMIT 1",
                (channel,),
            ).fetchone()
        finally:
            conn.close()
        return str(json.loads(payload)["body"])


@pytest.fixture(scope="module")
def contacts_site(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: str
) -> Iterator[ContactsSite]:
    directory = tmp_path_factory.mktemp("contacts-browser")
    path = directory / "ediary.db"
    with bound(f"sqlite:///{path}"):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        people = (world.parent.login, world.secretary.login, world.parent.last_name)
        db.session.commit()
    with running_server(f"sqlite:///{path}", directory) as server:
        yield ContactsSite(server.url, path, *people)


def _type_into(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_a_parent_changes_and_proves_contacts_with_the_keyboard(
    contacts_site: ContactsSite, phone: Page
) -> None:
    site = contacts_site
    log_in(phone, site.url, site.parent_login)
    phone.get_by_role("link", name="Moje dane kontaktowe").click()
    expect(phone.get_by_role("heading", name="Moje dane kontaktowe")).to_be_visible()
    assert fits_the_screen(phone)

    # A bad number first: refused in Polish, what was typed is kept.
    _type_into(phone, "E-mail", "maria@example.test")
    _type_into(phone, "Telefon komórkowy (SMS)", "12345")
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("alert")).to_contain_text("poprawny numer telefonu")
    expect(phone.get_by_label("E-mail", exact=True)).to_have_value("maria@example.test")
    _type_into(phone, "Telefon komórkowy (SMS)", "601 234 567")
    phone.keyboard.press("Enter")
    expect(phone.locator(".flash.info")).to_contain_text("Wysłaliśmy potwierdzenie")
    expect(phone.locator("#state-phone")).to_contain_text("Czeka na potwierdzenie: +48601234567")

    # The SMS code: a wrong one is refused and counted, the right one proves the number.
    code = re.search(r"\b(\d{6})\b", site.proof("sms"))
    assert code is not None
    wrong = "000000" if code.group(1) != "000000" else "111111"
    _type_into(phone, "Kod z SMS-a", wrong)
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("alert")).to_contain_text("Nieprawidłowy kod")
    expect(phone.get_by_label("Kod z SMS-a")).to_have_value(wrong)
    _type_into(phone, "Kod z SMS-a", code.group(1))
    phone.keyboard.press("Enter")
    expect(phone.locator(".flash.info")).to_contain_text("Numer telefonu potwierdzony")
    expect(phone.locator("#state-phone")).to_contain_text("+48601234567 (potwierdzony)")

    # The e-mail's link, opened on the same phone: one button, Enter on it.
    link = re.search(r"https?://\S+/contacts/confirm/\S+", site.proof("email"))
    assert link is not None
    phone.goto(site.url + "/" + link.group(0).split("/", 3)[3])
    phone.get_by_role("button", name="Potwierdzam").focus()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", name="Adres potwierdzony")).to_be_visible()
    phone.goto(site.url + "/portal/contacts")
    expect(phone.locator("#state-email")).to_contain_text("maria@example.test (potwierdzony)")


def test_the_secretary_types_a_guardians_contacts_with_the_keyboard(
    contacts_site: ContactsSite, desktop: Page
) -> None:
    """At 1280 px: start page → "Kontakty opiekunów" → the guardian → e-mail, Tab, phone, Enter."""
    site = contacts_site
    log_in(desktop, site.url, site.secretary_login)
    desktop.get_by_role("link", name="Kontakty opiekunów").click()
    desktop.get_by_role("link", name=re.compile(site.parent_name)).click()
    expect(desktop.get_by_role("heading", name=re.compile("Kontakty:"))).to_be_visible()
    _type_into(desktop, "E-mail", "rodzic@example.test")
    desktop.keyboard.press("Tab")  # to the phone, whatever the parent's test left in it
    desktop.keyboard.press("Control+A")
    desktop.keyboard.type("+48 603 456 789")
    desktop.keyboard.press("Enter")
    expect(desktop.locator(".flash.info")).to_contain_text("Wysłaliśmy potwierdzenie")
    expect(desktop.locator("#state-email")).to_contain_text(
        "Czeka na potwierdzenie: rodzic@example.test"
    )
    expect(desktop.locator("#state-phone")).to_contain_text("+48603456789")
    assert fits_the_screen(desktop)
    # The list shows both waiting.
    desktop.get_by_role("link", name="Kontakty opiekunów").click()
    row = desktop.get_by_role("row", name=re.compile(site.parent_name))
    expect(row).to_contain_text("czeka: rodzic@example.test")
