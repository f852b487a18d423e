"""The headless Chromium every browser test drives: Debian's, with the flags this closed network
needs (no background connections, which the machine refuses many at a time)."""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any, executable_path: str = CHROMIUM) -> Any:
    """A headless Chromium through Playwright (its own browser downloads are not used)."""
    return playwright.chromium.launch(executable_path=executable_path, args=CHROMIUM_ARGS)
