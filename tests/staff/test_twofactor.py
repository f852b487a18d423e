"""Two-factor login (issue 14 item 1): required roles enrol right after the password and reach
nothing before; then the password asks for a code (pyotp computes it at a pinned clock) or a
recovery code, which is spent; wrong codes are throttled; teachers switch it on and off; a
director resets someone's; activation and password reset do not skip it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyotp
import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.extensions import limiter
from ediary.people.activation.operations import issue_activation_code
from ediary.people.models import User
from ediary.people.throttle import FREE_FAILURES
from ediary.people.twofactor.models import Authenticator, RecoveryCode
from tests.factories import PASSWORD, SYSTEM
from tests.html import csrf_token, text

SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>")


@pytest.fixture(autouse=True)
def fresh_limits(client: FlaskClient) -> Any:
    """Also asks for `client`: its class keeps each test client's globals (CSRF) its own."""
    limiter.reset()
    yield
    limiter.reset()


def _password(client: FlaskClient, login: str, password: str = PASSWORD) -> Any:
    data = {"login": login, "password": password, "csrf_token": csrf_token(client, "/login")}
    return client.post("/login", data=data)


def _code(client: FlaskClient, path: str, code: str) -> Any:
    return client.post(path, data={"code": code, "csrf_token": csrf_token(client, path)})


def _enrol(client: FlaskClient, login: str) -> tuple[str, list[str]]:
    """Password, then the enrolment page's key typed into "an app" (pyotp): secret, codes."""
    assert _password(client, login).headers["Location"] == "/login/enrol"
    page = client.get("/login/enrol").get_data(as_text=True)
    assert "<svg" in page  # the QR code of the otpauth URI
    secret = SECRET.search(page).group(1).replace(" ", "")  # type: ignore[union-attr]
    done = _code(client, "/login/enrol", pyotp.TOTP(secret).now())
    assert done.status_code == 200
    return secret, RECOVERY.findall(done.get_data(as_text=True))


def test_a_secretary_enrols_before_reaching_anything_then_logs_in_with_a_code(
    app: Any, world: Any, session: Any
) -> None:
    session.commit()
    browser = app.test_client()
    assert _password(browser, "beata_sekretarz").headers["Location"] == "/login/enrol"
    # Half-way: nothing else opens.
    assert browser.get(f"/schools/{world.school.id}").headers["Location"].startswith("/login")
    secret, codes = _enrol(app.test_client(), "beata_sekretarz")
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashes only
    # The next login asks for the code; a wrong one is refused; the right one opens.
    later = app.test_client()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), tick=False):
        assert _password(later, "beata_sekretarz").headers["Location"] == "/login/code"
        wrong = _code(later, "/login/code", "000000")
        assert wrong.status_code == 400 and "Nieprawidłowy kod" in text(
            wrong.get_data(as_text=True)
        )
        right = _code(later, "/login/code", pyotp.TOTP(secret).now())
        # Where the password alone would lead a secretary: the office (issue 13).
        assert right.status_code == 302
        assert right.headers["Location"] == f"/office/{world.school.id}"
        assert later.get(f"/schools/{world.school.id}").status_code == 200
        # The same code again (seen over a shoulder) is refused.
        again = app.test_client()
        _password(again, "beata_sekretarz")
        assert _code(again, "/login/code", pyotp.TOTP(secret).now()).status_code == 400


def test_a_recovery_code_works_once(app: Any, world: Any, session: Any) -> None:
    session.commit()
    _secret, codes = _enrol(app.test_client(), "dyrektor_szkoly")
    first = app.test_client()
    _password(first, "dyrektor_szkoly")
    used = _code(first, "/login/code", codes[0].upper())
    assert used.status_code == 302
    assert "Zostało kodów: 9" in text(first.get("/").get_data(as_text=True))
    second = app.test_client()
    _password(second, "dyrektor_szkoly")
    assert _code(second, "/login/code", codes[0]).status_code == 400


def test_wrong_codes_are_throttled_like_passwords(app: Any, world: Any, session: Any) -> None:
    session.commit()
    secret, _codes = _enrol(app.test_client(), "gmina_admin")
    guesser = app.test_client()
    _password(guesser, "gmina_admin")
    for n in range(FREE_FAILURES):
        assert _code(guesser, "/login/code", f"{n:06d}").status_code == 400
    refused = _code(guesser, "/login/code", pyotp.TOTP(secret).now())  # even the right one waits
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "Zbyt wiele prób" in text(refused.get_data(as_text=True))


def test_activation_and_a_session_without_the_second_factor_do_not_skip_it(
    app: Any, world: Any, session: Any
) -> None:
    code = issue_activation_code(SYSTEM, world.secretary)
    session.commit()
    fresh = app.test_client()
    new = "kot Filemon lubi pierogi"
    data = {"login": "beata_sekretarz", "code": code, "password": new, "repeat": new}
    data["csrf_token"] = csrf_token(fresh, "/activate")
    assert fresh.post("/activate", data=data).headers["Location"] == "/login/enrol"
    # A session from before (no second factor passed) reaches only the enrolment page.
    old = app.test_client()
    with old.session_transaction() as flask_session:
        flask_session["_user_id"] = session.get(User, world.secretary.id).get_id()
    assert old.get(f"/schools/{world.school.id}").headers["Location"] == "/account/twofactor"
    assert old.get("/account/twofactor").status_code == 200


def test_a_teacher_switches_it_on_and_off_in_the_settings(
    app: Any, world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    teacher = login_as(world.teacher)
    assert "/account/twofactor" in teacher.get("/").get_data(as_text=True)
    page = teacher.get("/account/twofactor").get_data(as_text=True)
    secret = SECRET.search(page).group(1).replace(" ", "")  # type: ignore[union-attr]
    codes = RECOVERY.findall(
        _code(teacher, "/account/twofactor", pyotp.TOTP(secret).now()).get_data(as_text=True)
    )
    assert len(codes) == 10
    fresh = app.test_client()
    assert _password(fresh, "anna_nowak").headers["Location"] == "/login/code"
    off = _code(teacher, "/account/twofactor/off", codes[1])
    assert off.status_code == 302
    assert (
        session.scalar(select(Authenticator).where(Authenticator.user_id == world.teacher.id))
        is None
    )
    assert _password(app.test_client(), "anna_nowak").headers["Location"] == "/"


def test_a_required_role_cannot_switch_it_off(app: Any, world: Any, session: Any) -> None:
    session.commit()
    client = app.test_client()
    _secret, codes = _enrol(client, "beata_sekretarz")
    refused = _code(client, "/account/twofactor/off", codes[0])
    assert refused.status_code == 400 and "wymaga logowania dwuskładnikowego" in text(
        refused.get_data(as_text=True)
    )


def test_the_director_resets_a_secretarys_second_factor_with_history(
    app: Any, world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    secretary = app.test_client()
    _enrol(secretary, "beata_sekretarz")
    assert secretary.get(f"/schools/{world.school.id}").status_code == 200
    director = login_as(world.school_admin)
    listing = text(director.get(f"/schools/{world.school.id}/staff").get_data(as_text=True))
    assert "Sekretarz Beata beata_sekretarz sekretariat aktywne włączone" in listing
    member = f"/schools/{world.school.id}/staff/{world.secretary.id}"
    token = csrf_token(director, member)
    done = director.post(member + "/twofactor/reset", data={"confirm": "y", "csrf_token": token})
    assert done.status_code == 302
    assert secretary.get(f"/schools/{world.school.id}").status_code == 302  # session ended
    assert _password(app.test_client(), "beata_sekretarz").headers["Location"] == "/login/enrol"
    removed = session.scalars(
        select(HistoryEntry)
        .where(
            HistoryEntry.entity == "authenticators", HistoryEntry.actor_id == world.school_admin.id
        )
        .order_by(HistoryEntry.id)
    ).all()
    assert [r.action for r in removed] == ["delete"]
    assert removed[0].old["secret"] == "***"


def test_the_live_socket_refuses_a_session_without_the_second_factor(
    app: Any, world: Any, session: Any
) -> None:
    from ediary.extensions import socketio

    session.commit()
    browser = app.test_client()
    with browser.session_transaction() as flask_session:  # a session from before enrolment
        flask_session["_user_id"] = session.get(User, world.secretary.id).get_id()
    origin = {"Origin": app.config["SOCKETIO_ORIGINS"][0]}
    refused = socketio.test_client(
        app, namespace="/live", flask_test_client=browser, headers=origin
    )
    assert not refused.is_connected("/live")
