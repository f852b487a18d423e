"""The second step of a staff login, as a person with an authenticator app does it (pyotp
computes the code), for tests that log in through a real server's forms.

A first login of a required role enrols: the key is read off the enrolment page, remembered per
server and login, and its first code confirms it. Later logins type the code of a step after the
last one used (the server accepts each step once, and one step of drift either way), waiting
for the next step only when three logins in one half-minute used them all up.
"""

from __future__ import annotations

import re
import time

import pyotp

SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
STEP = 30
_secrets: dict[tuple[str, str], str] = {}
_last_step: dict[tuple[str, str], int] = {}


def remember(base_url: str, login: str, secret: str) -> None:
    _secrets[(base_url, login)] = secret


def secret_from(page: str) -> str:
    found = SECRET.search(page)
    assert found, "no key on the enrolment page"
    return found.group(1).replace(" ", "")


def next_code(base_url: str, login: str) -> str:
    """A code the server has not seen yet for this account."""
    key = (base_url, login)
    totp = pyotp.TOTP(_secrets[key])
    while True:
        now_step = int(time.time()) // STEP
        step = max(now_step - 1, _last_step.get(key, 0) + 1)
        if step <= now_step + 1:
            _last_step[key] = step
            return totp.at(step * STEP)
        time.sleep(1)


def enrol_code(base_url: str, login: str, page: str) -> str:
    secret = secret_from(page)
    remember(base_url, login, secret)
    return next_code(base_url, login)
