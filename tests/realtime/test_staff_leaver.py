"""The director disables a leaver on the staff console (issue 14 item 1): the teacher's open
live socket is dropped within a second, through the real server, Redis and the relay; the
director logs in with a password and a TOTP code (tests/twofactor.py) like a person."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.realtime.conftest import RedisServer, Seeded, csrf_token, live_client, login
from tests.servers import Server, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(
        seeded.url, tmp_path_factory.mktemp("leaver"), EDIARY_REDIS_URL=redis_server.url
    ) as started:
        yield started


def test_a_disabled_teachers_live_socket_is_dropped_within_a_second(
    server: Server, seeded: Seeded
) -> None:
    teacher = live_client(server.url, login(server.url, seeded.logins["teacher"])).connect()
    assert teacher.resume(None)["ok"] is True
    director = login(server.url, seeded.logins["school_admin"])
    member = f"{server.url}/schools/{seeded.ids['school']}/staff/{seeded.ids['teacher']}"
    token = csrf_token(director.get(member, timeout=10).text)
    disabled_at = time.monotonic()
    response = director.post(
        f"{member}/disable",
        data={"confirm": "y", "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    assert teacher.wait(lambda c: bool(c.disconnects), 1.5), "still connected"
    assert time.monotonic() - disabled_at < 1.5  # the POST's own round trip included
    assert teacher.reloads == [{"reason": "session_ended"}]
