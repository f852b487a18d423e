"""What a person does and sees in the browser: log in through the form, and page checks."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.factories import PASSWORD


def log_in(page: Page, url: str, login: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person: the label names the field."""
    page.goto(f"{url}/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Hasło").fill(password)
    page.get_by_role("button", name="Zaloguj").click()


def storage_is_empty(page: Page) -> bool:
    return bool(page.evaluate("localStorage.length === 0 && sessionStorage.length === 0"))


def fits_the_screen(page: Page) -> bool:
    """No horizontal scrolling: the document is no wider than the viewport."""
    return bool(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " <= window.innerWidth"
        )
    )
