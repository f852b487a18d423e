"""Reading pages in tests: the CSRF token a page carries, and its text without tags."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
# Values that differ between two requests for reasons other than the data: the CSRF token (it
# carries a timestamp), the language switch's return path (the requested URL itself) and a
# form's one-time token.
_VOLATILE = re.compile(
    r'(name="(?:csrf_token|next|form_token)" (?:type="hidden" )?value=")[^"]+(")'
)
# A hidden input as the templates write it, or as WTForms renders a HiddenField.
_HIDDEN = re.compile(
    r'<input type="hidden" name="([^"]+)" value="([^"]*)"'
    r'|<input id="([^"]+)" name="\3" type="hidden" value="([^"]*)"'
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    """A valid token for the client's session, read from a page the client may see."""
    page = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def hidden_fields(client: FlaskClient, path: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (the CSRF token, the bases of the roll form), as a
    browser would send them back with the visible fields."""
    page = client.get(path).get_data(as_text=True)
    fields = {m[0] or m[2]: html.unescape(m[1] or m[3]) for m in _HIDDEN.findall(page)}
    token = _TOKEN.search(page)
    if token:
        fields["csrf_token"] = token.group(1)
    return fields


def comparable(page: str) -> str:
    """The page with the values blanked that differ for every request (see _VOLATILE)."""
    return _VOLATILE.sub(r"\1\2", page)


def text(page: str) -> str:
    """Visible text, one space between words: for asserting what a person reads."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", page))).strip()
