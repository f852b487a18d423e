"""What a person does and sees in the browser: log in through the form, and page checks."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page

from tests import twofactor
from tests.factories import PASSWORD


def log_in(page: Page, url: str, login: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person: the label names the field. Staff whose role needs
    a second factor then type the code of their authenticator app (`second_factor`)."""
    page.goto(f"{url}/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Hasło").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Zaloguj").click()
    second_factor(page, url, login)


CODE_FIELD = "Kod z aplikacji (6 cyfr) albo kod zapasowy"


def second_factor(page: Page, url: str, login: str) -> None:
    """The code step after the password, if the server asks for one: on the first login the
    key is read off the enrolment page into "the app" (pyotp, tests/twofactor.py) and the
    recovery codes are acknowledged; later the app's current code is typed."""
    path = urlsplit(page.url).path
    if path == "/login/enrol":
        page.get_by_label(CODE_FIELD).fill(twofactor.enrol_code(url, login, page.content()))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        with page.expect_navigation():
            page.get_by_role("link", name="Zapisałem kody, przejdź dalej").click()
    elif path == "/login/code":
        page.get_by_label(CODE_FIELD).fill(twofactor.next_code(url, login))
        with page.expect_navigation():
            page.keyboard.press("Enter")


# The one thing a page may keep in the browser: live.js's cursor, the id of the last journal
# event the tab applied (a number, no child's data). Nothing else, and nothing in localStorage.
LIVE_CURSOR = "ediary.live.lastId"


def stored(page: Page) -> dict[str, str]:
    """Everything the page keeps in localStorage and sessionStorage, key → value."""
    return dict(
        page.evaluate(
            "() => ({...Object.fromEntries(Object.entries(localStorage)),"
            " ...Object.fromEntries(Object.entries(sessionStorage))})"
        )
    )


def storage_holds_nothing_personal(page: Page) -> bool:
    """The browser keeps at most the live cursor, a plain number; localStorage stays empty."""
    kept = stored(page)
    return (
        page.evaluate("localStorage.length") == 0
        and set(kept) <= {LIVE_CURSOR}
        and all(value.isdigit() for value in kept.values())
    )


def fits_the_screen(page: Page) -> bool:
    """No horizontal scrolling: the document is no wider than the viewport."""
    return bool(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " <= window.innerWidth"
        )
    )
