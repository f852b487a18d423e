"""The second step of a staff login, as a person with an authenticator app does it (pyotp
computes the code), for tests that log in through a real server's forms.

A first login of a required role enrols: the key is read off the enrolment page, remembered per
server and login, and its first code confirms it. Later logins type the code of a step after the
last one used (the server accepts each step once, and one step of drift either way), waiting
for the next step only when the logins of one half-minute used them all up. A code valid for
less than MARGIN seconds more is not typed: the form's round trip might outlast it.
"""

from __future__ import annotations

import re
import time

import pyotp

SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
STEP = 30
MARGIN = 10  # seconds a typed code must stay valid for
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
        now = time.time()
        now_step = int(now) // STEP
        # The previous step's code passes only until this step ends: not when that is so close
        # that the form's round trip under load may cross it (a CI run failed so).
        earliest = now_step - 1 if now - now_step * STEP < STEP - MARGIN else now_step
        step = max(earliest, _last_step.get(key, 0) + 1)
        if step <= now_step + 1:
            _last_step[key] = step
            return totp.at(step * STEP)
        time.sleep(1)


def enrol_code(base_url: str, login: str, page: str) -> str:
    secret = secret_from(page)
    remember(base_url, login, secret)
    return next_code(base_url, login)
