"""Login limits that do not lock out a school (issue 11, item 4; ediary/people/throttle.py).

The two attacks of the issue: a whole school logs in from one NAT address (nobody is refused),
and a stranger's wrong passwords for a parent's login (the parent still gets in: at once from a
browser that logged in before, and from a new one after the delay the page states).
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.people import throttle
from ediary.people.devices import COOKIE
from ediary.people.models import LoginFailure
from ediary.people.operations import set_password
from tests.factories import PASSWORD, SYSTEM, make_user
from tests.html import csrf_token, text

SCHOOL_NAT = "198.51.100.7"
STRANGER = "203.0.113.66"


def browser(app, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def log_in(client: FlaskClient, login: str, password: str):
    return client.post(
        "/login",
        data={"login": login, "password": password, "csrf_token": csrf_token(client, "/login")},
    )


def failures() -> int:
    return int(db.session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


def test_delays_grow_from_the_sixth_failure_double_and_stop_at_a_quarter_hour() -> None:
    delays = [throttle.delay_after(n) for n in range(12)]
    assert [d.total_seconds() for d in delays if d is not None] == [
        0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900
    ]  # fmt: skip
    assert throttle.delay_after(99) == throttle.MAX_DELAY
    assert throttle.delay_after(100) is None  # NIST SP 800-63B: then a new password


def test_a_parent_is_told_in_polish_when_to_try_again(world, client, clock, time_machine) -> None:
    for _ in range(throttle.FREE_FAILURES):
        assert log_in(client, "maria_wisniewska", "wrong password").status_code == 401
    refused = log_in(client, "maria_wisniewska", PASSWORD)  # the right password waits too
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    at = clock.local.strftime("%H:%M")  # 10:30 in Warsaw, whatever the server's zone
    assert f"Zbyt wiele prób. Spróbuj ponownie za 30 s (o {at})." in text(refused.text)
    assert failures() == throttle.FREE_FAILURES  # the refused attempt checked no password
    time_machine.shift(31)
    assert log_in(client, "maria_wisniewska", "wrong again").status_code == 401
    refused = log_in(client, "maria_wisniewska", PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    time_machine.shift(61)
    assert log_in(client, "maria_wisniewska", PASSWORD).status_code == 302
    assert failures() == 0  # a success ends the run of failures


def test_english_with_the_language_cookie(world, client) -> None:
    client.set_cookie("lang", "en")
    for _ in range(throttle.FREE_FAILURES):
        log_in(client, "maria_wisniewska", "wrong password")
    refused = log_in(client, "maria_wisniewska", PASSWORD)
    assert "Too many attempts. Try again in 30 s" in text(refused.text)


def test_a_whole_school_logs_in_from_one_address(world, app, client) -> None:
    """150 accounts behind the school's NAT, within minutes, each after one typo: none refused."""
    logins = [make_user(f"nauczyciel_{n}").login for n in range(150)]
    db.session.commit()
    staff_room = browser(app, SCHOOL_NAT)
    for login in logins:
        assert log_in(staff_room, login, "a typo").status_code == 401
        assert log_in(staff_room, login, PASSWORD).status_code == 302
        staff_room.delete_cookie("session")  # the next person
    assert failures() == 0


def test_a_strangers_wrong_passwords_do_not_lock_the_parent_out(
    world, app, client, time_machine
) -> None:
    parent = make_user("rodzic1")
    db.session.commit()
    phone = browser(app, "192.0.2.10")  # the parent's phone has logged in before
    assert log_in(phone, "rodzic1", PASSWORD).status_code == 302
    assert phone.get_cookie(COOKIE, path="/login") is not None

    stranger = browser(app, STRANGER)
    wrong = 0
    while wrong < 50:  # 50 wrong passwords, each as soon as the throttle lets it through
        response = log_in(stranger, "rodzic1", f"guess {wrong}")
        if response.status_code == 429:
            time_machine.shift(int(response.headers["Retry-After"]))
            continue
        assert response.status_code == 401
        wrong += 1

    phone.delete_cookie("session")  # logged out
    assert log_in(phone, "rodzic1", PASSWORD).status_code == 302  # at once, own lane

    new_laptop = browser(app, "192.0.2.11")
    refused = log_in(new_laptop, "rodzic1", PASSWORD)
    assert refused.status_code == 429
    stated = re.search(r"Spróbuj ponownie za (\d+) min", text(refused.text))
    assert stated and int(stated.group(1)) <= throttle.MAX_DELAY.total_seconds() / 60
    time_machine.shift(int(refused.headers["Retry-After"]))
    assert log_in(new_laptop, "rodzic1", PASSWORD).status_code == 302
    assert parent.login == "rodzic1"


def test_a_hundred_failures_shut_new_browsers_out_until_a_new_password(
    world, app, client, time_machine
) -> None:
    home = browser(app, "192.0.2.20")
    assert log_in(home, "maria_wisniewska", PASSWORD).status_code == 302
    stranger = browser(app, STRANGER)
    for n in range(throttle.RESET_AFTER):
        time_machine.shift(throttle.MAX_DELAY.total_seconds())
        assert log_in(stranger, "maria_wisniewska", f"guess {n}").status_code == 401
    time_machine.shift(24 * 3600)
    shut = log_in(browser(app, "192.0.2.21"), "maria_wisniewska", PASSWORD)
    assert shut.status_code == 429 and "Retry-After" not in shut.headers
    assert "Ustaw nowe hasło" in text(shut.text)
    assert log_in(home, "maria_wisniewska", PASSWORD).status_code == 302  # known browser: in
    set_password(Actor(world.parent, Channel.WEB), world.parent, "a brand new passphrase")
    db.session.commit()
    fresh = log_in(browser(app, "192.0.2.21"), "maria_wisniewska", "a brand new passphrase")
    assert fresh.status_code == 302


def test_one_address_guessing_across_accounts_meets_a_ceiling_of_failures(
    world, app, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert app.config["LOGIN_FAILURES_PER_ADDRESS"] == 300
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", 5)
    home = browser(app, STRANGER)
    assert log_in(home, "maria_wisniewska", PASSWORD).status_code == 302  # before the spray
    sprayer = browser(app, STRANGER)
    for n in range(5):
        assert log_in(sprayer, f"konto_{n}", "Haslo123!").status_code == 401
    refused = log_in(sprayer, "piotr_wojcik", PASSWORD)
    assert refused.status_code == 429 and 3500 < int(refused.headers["Retry-After"]) <= 3600
    # A browser that logged in to its account before is not held up by its address.
    home.delete_cookie("session")
    assert log_in(home, "maria_wisniewska", PASSWORD).status_code == 302


def test_a_forged_device_cookie_is_an_unknown_browser(world, app, client) -> None:
    for _ in range(throttle.FREE_FAILURES):
        log_in(browser(app, STRANGER), "maria_wisniewska", "wrong password")
    forger = browser(app, STRANGER)
    forger.set_cookie(COOKIE, '{"maria_wisniewska": "abc"}', path="/login")
    assert log_in(forger, "maria_wisniewska", PASSWORD).status_code == 429


def test_a_new_password_forgets_the_failures(world, session) -> None:
    session.add_all(LoginFailure(login="maria_wisniewska", lane="", at=utcnow()) for _ in range(3))
    session.flush()
    set_password(SYSTEM, world.parent, "a brand new passphrase")
    assert failures() == 0
