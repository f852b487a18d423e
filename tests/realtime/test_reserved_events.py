"""What a hostile client sends on both namespaces, frame by frame over a real server's WebSocket:
reserved event names (issue 10, item 7) and malformed events (item 10).

A client-sent `disconnect` used to run the server's disconnect handler: the relay forgot the
socket, which stayed open and in its rooms, so revoking the parent's access no longer reached it
and it kept receiving the child's events. A client-sent `connect` re-ran the connect handler and
allowed a second `resume`. Every such event must be refused and change nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import issue_enrollment_code
from ediary.people.models import User
from ediary.schools.models import Pupil
from ediary.schools.operations import link_guardian, unlink_guardian
from tests.realtime.conftest import RedisServer, Seeded, WebTeacher, bound_to, cookie_header, login
from tests.realtime.raw import RawSocket
from tests.servers import Server, running_server

pytestmark = pytest.mark.slow

SYSTEM = Actor.system(Channel.CLI)
RESERVED = ("disconnect", "connect", "connect_error")


@pytest.fixture(scope="module")
def server(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(
        seeded.url, tmp_path_factory.mktemp("reserved"), EDIARY_REDIS_URL=redis_server.url
    ) as started:
        yield started


@pytest.fixture(scope="module")
def parent_cookie(server: Server, seeded: Seeded) -> str:
    return cookie_header(login(server.url, seeded.logins["parent"]))


@pytest.fixture(scope="module")
def teacher(server: Server, seeded: Seeded) -> WebTeacher:
    return WebTeacher(server.url, login(server.url, seeded.logins["teacher"]), seeded.ids["lesson"])


@pytest.fixture(scope="module")
def kiosk_auth(server: Server, seeded: Seeded) -> dict[str, Any]:
    with bound_to(seeded.url):
        code = issue_enrollment_code(SYSTEM, db.session.get_one(Kiosk, seeded.ids["kiosk"]))
        db.session.commit()
    response = requests.post(f"{server.url}/api/kiosk/enroll", json={"code": code}, timeout=10)
    assert response.status_code == 200, response.text
    return {"kiosk_id": seeded.ids["kiosk"], "secret": response.json()["secret"]}


@pytest.fixture
def live(server: Server, parent_cookie: str) -> Iterator[RawSocket]:
    raw = RawSocket(server.url, "/live", cookie=parent_cookie)
    assert "sid" in raw.connect()
    assert raw.call("resume", {"last_id": None})["ok"] is True
    yield raw
    raw.close()


def _refused_as_unknown(ack: Any) -> bool:
    return (
        isinstance(ack, dict)
        and ack.get("ok") is False
        and ack.get("error") == "unknown_event"
        and bool(ack.get("message"))
    )


def test_a_client_sent_disconnect_changes_nothing_and_revocation_reaches_the_socket(
    live: RawSocket, teacher: WebTeacher, seeded: Seeded, redis_server: RedisServer
) -> None:
    live.send('42/live,["disconnect",{}]')  # the frame of the report, no acknowledgement asked
    asked = live.emit("disconnect", {})
    with bound_to(seeded.url, redis_server.url):  # another process, ringing through Redis
        parent = db.session.get_one(User, seeded.ids["parent"])
        unlink_guardian(SYSTEM, parent, db.session.get_one(Pupil, seeded.ids["pupil"]))
        db.session.commit()
        unlinked_at = time.monotonic()
    try:
        assert live.wait(lambda s: bool(s.pushed("reload")), 1.0), "no reload within a second"
        assert time.monotonic() - unlinked_at < 1.0
        assert live.pushed("reload") == [{"reason": "access_changed"}]
        teacher.roll({seeded.ids["pupil"]: "nb"}, topic="Po odłączeniu")
        time.sleep(1.5)  # the relay polls at least once a second: anything pushed is here now
        assert live.pushed("event") == []
        assert not live.closed
        assert _refused_as_unknown(live.ack(asked))
        # The server still knows the connection as resumed: not forgotten, not "not_connected".
        assert live.call("resume", {"last_id": None})["error"] == "already_resumed"
    finally:
        with bound_to(seeded.url, redis_server.url):
            parent = db.session.get_one(User, seeded.ids["parent"])
            link_guardian(SYSTEM, parent, db.session.get_one(Pupil, seeded.ids["pupil"]))
            db.session.commit()


def test_a_client_sent_connect_neither_connects_again_nor_allows_a_second_resume(
    live: RawSocket, teacher: WebTeacher, seeded: Seeded
) -> None:
    assert _refused_as_unknown(live.call("connect", {}))
    live.send('42/live,["connect"]')
    assert live.call("resume", {"last_id": 0})["error"] == "already_resumed"
    teacher.roll({seeded.ids["pupil"]: "sp"})
    assert live.wait(lambda s: bool(s.pushed("event")), 5)
    time.sleep(0.5)
    assert [e["code"] for e in live.pushed("event")] == ["sp"]  # once: one stream, no replay


@pytest.mark.parametrize(
    "frame",
    [
        ["connect_error", {"message": "x"}],
        ["grades", {"pupil_id": 1}],
        ["on_resume", {"last_id": None}],
        ["__init__"],
        [{"name": "resume"}, {"last_id": None}],  # an object as the name
        [["resume"], {"last_id": None}],
        [7, {"last_id": None}],
        [None],
        [True],
    ],
)
def test_reserved_unknown_and_non_string_names_are_refused_on_live(
    live: RawSocket, frame: list[Any]
) -> None:
    assert _refused_as_unknown(live.call(*frame))
    assert live.call("resume", {"last_id": None})["error"] == "already_resumed"  # still usable


def test_an_event_with_two_arguments_is_refused_with_an_acknowledgement(
    server: Server, parent_cookie: str
) -> None:
    raw = RawSocket(server.url, "/live", cookie=parent_cookie)
    try:
        raw.connect()
        refused = raw.call("resume", {"last_id": None}, {"last_id": None})
        assert refused["ok"] is False and refused["error"] == "bad_request" and refused["message"]
        assert raw.call("resume", {"last_id": None})["ok"] is True  # nothing was joined before
    finally:
        raw.close()


def test_the_kiosk_namespace_refuses_the_same(server: Server, kiosk_auth: dict[str, Any]) -> None:
    raw = RawSocket(server.url, "/kiosk")
    try:
        assert "sid" in raw.connect(kiosk_auth)
        for name in (*RESERVED, "grades", {"name": "room"}, 7, None):
            assert _refused_as_unknown(raw.call(name, {})), name
        raw.send('42/kiosk,["disconnect",{}]')
        raw.send('42/kiosk,["connect",{"kiosk_id":1,"secret":"x"}]')
        two = raw.call("room", {}, {})
        assert two["ok"] is False and two["error"] == "invalid" and two["message"]
        room = raw.call("room", {})  # the device is still connected as itself
        assert room["ok"] is True and room["kiosk"]["id"] == kiosk_auth["kiosk_id"]
        assert not raw.closed
    finally:
        raw.close()
