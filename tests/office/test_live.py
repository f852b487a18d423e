"""The office's movements reach the parents' open pages over a real server and real sockets
(issue 13 item 3): the secretary transfers a pupil and records their leaving through the pages
of a gunicorn+gevent server; the parent's socket is told within a second, and after leaving the
parent no longer reaches the child."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.realtime.conftest import LiveClient, RedisServer, Seeded, live_client, login
from tests.servers import Server, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(
        seeded.url, tmp_path_factory.mktemp("office"), EDIARY_REDIS_URL=redis_server.url
    ) as started:
        yield started


@pytest.fixture(scope="module")
def sessions(server: Server, seeded: Seeded) -> dict[str, requests.Session]:
    people = ("parent", "other_parent", "secretary")
    return {name: login(server.url, seeded.logins[name]) for name in people}


def _fields(http: requests.Session, url: str, form_action: str) -> dict[str, str]:
    """The hidden fields of one form of the record page, as the browser sends them back."""
    page = http.get(url, timeout=10).text
    form = page[page.index(f'action="{form_action}"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def _socket(
    server: Server, sessions: dict[str, requests.Session], who: str = "parent"
) -> LiveClient:
    client = live_client(server.url, sessions[who]).connect()
    assert client.resume(None)["ok"] is True
    return client


def _post(http: requests.Session, url: str, action: str, data: dict[str, Any]) -> float:
    response = http.post(
        url.split("/office/")[0] + action,
        data={**_fields(http, url, action), **data},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return time.monotonic()


def test_a_transfer_and_a_leaving_reach_the_parents_socket_within_a_second(
    server: Server, sessions: dict[str, requests.Session], seeded: Seeded
) -> None:
    secretary, pupil = sessions["secretary"], seeded.ids["pupil"]
    record = f"{server.url}/office/pupils/{pupil}"
    parent = _socket(server, sessions)
    try:
        moved_at = _post(
            secretary,
            record,
            f"/office/pupils/{pupil}/transfer",
            {"class_id": str(seeded.ids["class_b"])},
        )
        assert parent.wait(lambda c: bool(c.reloads), 1.0), "no reload within a second"
        assert time.monotonic() - moved_at < 1.0
        assert parent.reloads == [{"reason": "access_changed"}]
    finally:
        parent.close()
    portal = f"{server.url}/portal/{pupil}"
    assert sessions["parent"].get(portal, timeout=10).status_code == 200

    parent = _socket(server, sessions)
    try:
        left_at = _post(
            secretary,
            record,
            f"/office/pupils/{pupil}/leave",
            {"left_on": "2026-12-01", "leave_reason": "zmiana szkoły"},
        )
        assert parent.wait(lambda c: bool(c.reloads), 1.0), "no reload within a second"
        assert time.monotonic() - left_at < 1.0
    finally:
        parent.close()
    assert sessions["parent"].get(portal, timeout=10).status_code == 404
    # The data is kept: the office still reads the whole record.
    assert "zmiana szkoły" in secretary.get(record, timeout=10).text


def test_unlinking_a_guardian_on_the_record_reaches_their_socket_within_a_second(
    server: Server, sessions: dict[str, requests.Session], seeded: Seeded
) -> None:
    pupil_b, guardian = seeded.ids["pupil_b"], seeded.ids["other_parent"]
    record = f"{server.url}/office/pupils/{pupil_b}"
    portal = f"{server.url}/portal/{pupil_b}"
    assert sessions["other_parent"].get(portal, timeout=10).status_code == 200
    other_parent = _socket(server, sessions, "other_parent")
    try:
        unlinked_at = _post(
            sessions["secretary"],
            record,
            f"/office/pupils/{pupil_b}/guardians/{guardian}/unlink",
            {},
        )
        assert other_parent.wait(lambda c: bool(c.reloads), 1.0), "no reload within a second"
        assert time.monotonic() - unlinked_at < 1.0
        assert other_parent.reloads == [{"reason": "access_changed"}]
    finally:
        other_parent.close()
    assert sessions["other_parent"].get(portal, timeout=10).status_code == 404
