"""Logging in over the web: generic errors, throttling, revocable sessions, demo accounts."""

from __future__ import annotations

import re

import pytest

from ediary.audit.recording import Actor, Channel, operation
from ediary.people.operations import disable_user, set_password
from tests.factories import PASSWORD


def csrf(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None, "no CSRF token in the page"
    return token.group(1)


def login(client, user_login, password):
    return client.post(
        "/login", data={"login": user_login, "password": password, "csrf_token": csrf(client)}
    )


def test_login_and_home(world, client):
    response = login(client, "anna_nowak", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Dzień dobry, Anna" in home and "Moje lekcje dzisiaj" in home


@pytest.mark.parametrize(
    ("user_login", "password"),
    [
        ("anna_nowak", "wrong password here"),
        ("nobody_at_all", PASSWORD),
    ],
)
def test_one_generic_error_for_every_failure(world, client, user_login, password):
    response = login(client, user_login, password)
    assert response.status_code == 401
    assert "Nieprawidłowy login lub hasło." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(world, client):
    response = client.post("/login", data={"login": "anna_nowak", "password": PASSWORD})
    assert response.status_code == 400
    assert "Formularz wygasł" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_disabled_account_cannot_log_in_and_its_sessions_end(world, client, session):
    assert login(client, "anna_nowak", PASSWORD).status_code == 302
    disable_user(Actor(world.school_admin, Channel.WEB), world.teacher)
    session.commit()
    assert client.get("/").status_code == 302  # the open session ended
    assert login(client, "anna_nowak", PASSWORD).status_code == 401


def test_password_change_ends_other_sessions(world, app, client, session):
    other_device = app.test_client()
    assert login(client, "anna_nowak", PASSWORD).status_code == 302
    assert login(other_device, "anna_nowak", PASSWORD).status_code == 302
    set_password(Actor(world.teacher, Channel.WEB), world.teacher, "a brand new passphrase")
    session.commit()
    assert client.get("/").status_code == 302 and other_device.get("/").status_code == 302
    assert login(client, "anna_nowak", "a brand new passphrase").status_code == 302


def test_logout_ends_every_session_of_the_account(world, app, client):
    other_device = app.test_client()
    login(client, "anna_nowak", PASSWORD)
    login(other_device, "anna_nowak", PASSWORD)
    token = csrf(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert other_device.get("/").status_code == 302


@operation
def _make_demo(actor, user):
    user.is_demo = True


def test_demo_accounts_work_only_in_demo_mode(world, app, client):
    _make_demo(Actor.system(), world.parent)
    assert login(client, "maria_wisniewska", PASSWORD).status_code == 401
    app.config["DEMO_MODE"] = True
    try:
        assert login(client, "maria_wisniewska", PASSWORD).status_code == 302
    finally:
        app.config["DEMO_MODE"] = False
    assert client.get("/").status_code == 302  # the demo session ends with demo mode


def test_short_password_refused_by_policy(world, session, app_ctx):
    from ediary.errors import Refusal

    with pytest.raises(Refusal) as refused:
        set_password(Actor(world.teacher, Channel.WEB), world.teacher, "short")
    assert refused.value.code == "password_short" and "12" in str(refused.value.message)


def test_rate_limits_go_on_while_the_shared_counters_are_down(fresh_database_url, tmp_path):
    from ediary import create_app
    from ediary.db import Base, db
    from ediary.extensions import limiter
    from tests.conftest import test_config
    from tests.servers import RedisServer, start_or_skip

    redis_server = start_or_skip(RedisServer(tmp_path))
    previous = db.engine
    app = create_app(
        test_config(
            fresh_database_url("sqlite"),
            RATELIMIT_STORAGE_URI=redis_server.url.replace("/0", "/1"),
        )
    )
    try:
        assert db.engine is not None
        with app.app_context():
            Base.metadata.create_all(db.engine)
        client = app.test_client()

        def forgot(n: int) -> int:
            token = csrf(client, "/password/forgot")
            data = {"identifier": f"nobody_{n}", "csrf_token": token}
            return client.post("/password/forgot", data=data).status_code

        assert forgot(0) == 302
        redis_server.stop()  # Redis restarts, or is down for a while
        statuses = [forgot(n) for n in range(1, 13)]
        # No request fails for want of Redis; the process counts in its memory meanwhile
        # (from the moment it noticed), so the address is still refused after 10 requests.
        assert set(statuses) == {302, 429}, statuses
        assert statuses.index(429) <= 11 and set(statuses[statuses.index(429) :]) == {429}
    finally:
        redis_server.stop()
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()
        if previous is not None:
            db.bind(previous)
        limiter._storage_dead = False  # the module's limiter outlives this app; the next is alive


def test_pages_are_not_cached_and_carry_security_headers(world, client):
    response = client.get("/login")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
