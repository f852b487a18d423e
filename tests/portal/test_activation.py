"""A parent's account: a one-time code from the school, their own password (common and breached
passwords refused), one answer for every failure, throttling, and password reset by the school
(a new code) or by e-mail (a signed, expiring, single-use link)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.errors import Refusal
from ediary.extensions import limiter
from ediary.notifications.models import MessageKind, OutgoingMessage
from ediary.people.activation.models import ActivationCode
from ediary.people.activation.operations import issue_activation_code, reset_token
from ediary.people.activation.policy import check_new_password
from ediary.people.models import User
from tests.html import csrf_token, text

GOOD = "kot Filemon lubi pierogi"
SCHOOL = Actor.system(Channel.CLI)


@pytest.fixture(autouse=True)
def fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


def _activate(client, login, code, password=GOOD, repeat=None):
    return client.post(
        "/activate",
        data={
            "csrf_token": csrf_token(client, "/activate"),
            "login": login,
            "code": code,
            "password": password,
            "repeat": password if repeat is None else repeat,
        },
    )


def test_a_parent_activates_with_the_schools_code_and_lands_on_the_portal(world, client, session):
    code = issue_activation_code(SCHOOL, world.parent)
    session.commit()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    response = _activate(client, "Maria_Wisniewska ", code.lower().replace("-", " "))
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    assert client.get("/portal/").headers["Location"] == f"/portal/{world.sibling.id}"
    assert db.session.scalar(select(ActivationCode.used_at)) is not None
    change = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "users", HistoryEntry.entity_id == world.parent.id)
        .order_by(HistoryEntry.id.desc())
    ).first()
    assert change is not None and change.new is not None
    assert change.actor_id == world.parent.id and change.new["password_hash"] == "***"
    # The code worked once.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/settings")})
    again = _activate(client, "maria_wisniewska", code, password="inne dobre hasło rodzica")
    assert again.status_code == 400
    login = client.post(
        "/login",
        data={"csrf_token": csrf_token(client, "/login"), "login": "maria_wisniewska",
              "password": GOOD},
    )  # fmt: skip
    assert login.headers["Location"] == "/portal/"  # a parent's home is the portal


def test_the_welcome_after_activation_and_the_notice_after_a_reset_are_shown(
    world, client, session
):
    """The message of a successful activation or reset reaches the page it leads to: the new
    session is started before it is said, not after (which dropped it with the old session)."""
    code = issue_activation_code(SCHOOL, world.parent)
    session.commit()
    response = _activate(client, "maria_wisniewska", code)
    landing = client.get(client.get(response.headers["Location"]).headers["Location"])
    assert "Konto jest aktywne. Witamy w dzienniku!" in text(landing.get_data(as_text=True))
    path = f"/password/reset/{reset_token(world.parent)}"
    form = {"csrf_token": csrf_token(client, path), "password": GOOD + " 2", "repeat": GOOD + " 2"}
    response = client.post(path, data=form)
    landing = client.get(client.get(response.headers["Location"]).headers["Location"])
    assert "Hasło zostało zmienione." in text(landing.get_data(as_text=True))


def test_every_failure_gets_the_same_answer(world, client, session):
    code = issue_activation_code(SCHOOL, world.parent)
    other = issue_activation_code(SCHOOL, world.other_parent)
    expired = issue_activation_code(SCHOOL, world.teacher)
    _expire_codes(SCHOOL, world.teacher)
    session.commit()
    answers = set()
    for login, tried in [
        ("nobody_at_all", code),  # no such account
        ("maria_wisniewska", "AAAA-BBBB-CCCC"),  # a wrong code
        ("maria_wisniewska", other),  # another account's code
        ("anna_nowak", expired),  # expired
    ]:
        response = _activate(client, login, tried)
        assert response.status_code == 400
        answers.add(text(response.get_data(as_text=True)))
    (answer,) = answers  # the same page, word for word, for every failure
    assert "Login albo kod aktywacyjny jest nieprawidłowy, wygasł albo został już użyty." in answer


@operation
def _expire_codes(actor, user):
    for code in db.session.scalars(select(ActivationCode).where(ActivationCode.user_id == user.id)):
        code.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def test_a_new_code_replaces_the_older_one(world, client, session):
    first = issue_activation_code(SCHOOL, world.parent)
    second = issue_activation_code(SCHOOL, world.parent)
    session.commit()
    assert _activate(client, "maria_wisniewska", first).status_code == 400
    assert _activate(client, "maria_wisniewska", second).status_code == 302


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("krótkie", "password_short"),
        ("qwertyuiop123", "password_common"),  # in the breach corpus list as it is
        ("1qaz2wsx3edc", "password_common"),
        ("Maria.Wisniewska1", "password_guessable"),  # the account's own name
        ("Zosia2015!!!!", "password_guessable"),
        ("aaaaaaaaaaaaaaaa", "password_guessable"),
        ("szkolapodstawowanr1", "password_guessable"),  # the school's name
    ],
)
def test_weak_passwords_are_refused(world, session, password, code):
    context = ["maria_wisniewska", "Maria", "Wiśniewska", "Zosia", "Szkoła Podstawowa nr 1"]
    with pytest.raises(Refusal) as refused:
        check_new_password(password, context)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "password",
    [
        GOOD,
        "pies Burek i kot Mruczek",
        "Żółw źle śpi w łódce na Wiśle, a czapla tańczy " * 2,
        "x7#Kq9!vLm2@Rt",
    ],
)
def test_long_or_random_passwords_pass(world, session, password):
    check_new_password(password, ["maria_wisniewska", "Maria", "Wiśniewska"])


def test_a_weak_password_leaves_the_code_unused(world, client, session):
    code = issue_activation_code(SCHOOL, world.parent)
    session.commit()
    response = _activate(client, "maria_wisniewska", code, password="qwertyuiop123")
    assert response.status_code == 400
    assert "najczęściej używanych" in text(response.get_data(as_text=True))
    assert db.session.scalar(select(ActivationCode.used_at)) is None
    mismatch = _activate(client, "maria_wisniewska", code, repeat="something else entirely")
    assert mismatch.status_code == 400 and "Hasła się różnią." in mismatch.get_data(as_text=True)


def test_activation_is_throttled_per_account_and_per_address(world, client, app, session):
    for _ in range(10):
        assert _activate(client, "maria_wisniewska", "AAAA-BBBB-CCCC").status_code == 400
    assert _activate(client, "maria_wisniewska", "AAAA-BBBB-CCCC").status_code == 429
    limiter.reset()
    other_address = {"REMOTE_ADDR": "10.9.9.9"}
    for n in range(20):
        response = client.post(
            "/activate",
            data={"csrf_token": csrf_token(client, "/activate"), "login": f"guess_{n}",
                  "code": "AAAA-BBBB-CCCC", "password": GOOD, "repeat": GOOD},
            environ_base=other_address,
        )  # fmt: skip
        assert response.status_code == 400
    response = client.post(
        "/activate",
        data={"csrf_token": csrf_token(client, "/activate"), "login": "guess_x",
              "code": "AAAA-BBBB-CCCC", "password": GOOD, "repeat": GOOD},
        environ_base=other_address,
    )  # fmt: skip
    assert response.status_code == 429


def test_the_command_line_issues_a_code(tmp_path, cli):
    from ediary.migrations import upgrade
    from tests.conftest import app_bound_to
    from tests.factories import make_user

    url = f"sqlite:///{tmp_path / 'ediary.db'}"
    upgrade(url)
    with app_bound_to(url):
        make_user("maria_wisniewska", password=None)
        db.session.commit()
    result = cli("activation-code", "--login", "maria_wisniewska", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", result.stdout.strip())
    unknown = cli("activation-code", "--login", "nobody", "--database-url", url)
    assert unknown.exit_code == 1 and "no account" in unknown.output


@operation
def _give_email(actor, user: User, email: str) -> None:
    user.email = email


def _forgot(client, identifier):
    return client.post(
        "/password/forgot",
        data={"csrf_token": csrf_token(client, "/password/forgot"), "identifier": identifier},
    )


def test_reset_by_email_is_queued_and_the_link_works_once(world, client, app, session):
    _give_email(SCHOOL, world.parent, "Maria@Example.test")
    session.commit()
    answers = {
        text(client.get(_forgot(client, who).headers["Location"]).get_data(as_text=True))
        for who in ("maria@example.test", "nobody_at_all", "piotr_wojcik", "%@%")
    }
    assert len(answers) == 1  # the same words whatever was named
    (message,) = db.session.scalars(select(OutgoingMessage)).all()
    assert message.kind is MessageKind.RESET and message.user_id == world.parent.id
    found = re.search(r"https?://\S+", message.payload["body"])
    assert found is not None, message.payload["body"]
    link = found.group(0)
    path = "/" + link.split("/", 3)[3]
    assert client.get(path).status_code == 200
    form = {"csrf_token": csrf_token(client, path), "password": GOOD, "repeat": GOOD}
    response = client.post(path, data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    assert client.get(path).status_code == 400  # used: the password it was made for is gone
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    assert client.get(forged).status_code == 400


def test_an_expired_reset_link_is_refused(world, app, session):
    from ediary.people.activation.operations import user_of_reset_token

    token = reset_token(world.parent)
    assert user_of_reset_token(token) == world.parent
    assert user_of_reset_token(token, max_age=-1) is None


def test_the_session_cookie_of_an_activation_is_secure_httponly_and_samesite(
    world, client, app, session, monkeypatch
):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)  # as `check --deploy` demands
    code = issue_activation_code(SCHOOL, world.parent)
    session.commit()
    response = _activate(client, "maria_wisniewska", code)
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all(
        "Secure" in c and "HttpOnly" in c and "SameSite=Lax" in c for c in cookies
    ), cookies
