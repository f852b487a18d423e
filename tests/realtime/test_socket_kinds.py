"""Kiosks and people in processes of their own (issue 19 item 3), and one process for all.

Production runs the parents' `/live` in `ediary-server@` processes (EDIARY_SOCKETS=people) and
the kiosks' `/kiosk` in `ediary-kiosk-server@` processes (EDIARY_SOCKETS=kiosks), sharing the
database and Redis; nginx sends the kiosks' Socket.IO path to theirs. Each kind refuses the
other's sockets, so a parents' reconnect storm never lands on a kiosk's process. A process
with the default (`all`, the demo) serves both, kiosks on their own path too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import socketio
from socketio import exceptions as sio_exceptions

from ediary.db import db, utcnow
from ediary.kiosks.access import load_enrollment_code
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import enroll_kiosk, issue_enrollment_code
from ediary.realtime.rooms import KIOSK_SOCKETIO_PATH, serves
from tests.factories import SYSTEM
from tests.realtime.conftest import (
    RedisServer,
    Seeded,
    bound_to,
    journal_ids,
    live_client,
    login,
)
from tests.servers import Server, ServerConfig, ServerGroup

pytestmark = pytest.mark.slow

KIOSK_PATH = KIOSK_SOCKETIO_PATH.strip("/")


@pytest.fixture(scope="module")
def servers(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Server]]:
    kinds = ("people", "kiosks", "all")
    configs = [ServerConfig(seeded.url, env={"EDIARY_SOCKETS": kind}, name=kind) for kind in kinds]
    with ServerGroup(
        configs, tmp_path_factory.mktemp("kinds"), redis_url=redis_server.url
    ) as started:
        yield dict(zip(kinds, started, strict=True))


@pytest.fixture(scope="module")
def secret(seeded: Seeded, redis_server: RedisServer) -> str:
    with bound_to(seeded.url, redis_server.url):
        kiosk = db.session.get_one(Kiosk, seeded.ids["kiosk"])
        code = load_enrollment_code(issue_enrollment_code(SYSTEM, kiosk))
        assert code is not None
        _kiosk, secret = enroll_kiosk(SYSTEM, code, utcnow())
        db.session.commit()
    return secret


def kiosk_connects(server: Server, seeded: Seeded, secret: str, path: str = KIOSK_PATH) -> bool:
    """A kiosk as the agent connects (its Socket.IO path); True if it was let in and its
    `room` answered (read from the shared database)."""
    client = socketio.Client(reconnection=False)
    try:
        client.connect(
            server.url,
            auth={"kiosk_id": seeded.ids["kiosk"], "secret": secret},
            transports=["websocket"],
            namespaces=["/kiosk"],
            socketio_path=path,
            wait_timeout=10,
        )
    except sio_exceptions.ConnectionError:
        return False
    try:
        answer = client.call("room", {}, namespace="/kiosk", timeout=10)
        assert answer["ok"] is True and answer["kiosk"]["id"] == seeded.ids["kiosk"]
        return True
    finally:
        client.disconnect()


def parent_connects(server: Server, seeded: Seeded) -> bool:
    """A parent as live.js connects (default path); True if let in and resumed."""
    parent = live_client(server.url, login(server.url, seeded.logins["parent"]))
    try:
        parent.connect()
    except sio_exceptions.ConnectionError:
        return False
    try:
        newest = max((row.id for row in journal_ids(seeded.url)), default=0)
        assert parent.resume(newest) == {"ok": True, "last_id": newest, "replayed": 0}
        return True
    finally:
        parent.close()


def test_the_kiosks_process_takes_kiosks_and_refuses_parents(
    servers: dict[str, Server], seeded: Seeded, secret: str
) -> None:
    assert kiosk_connects(servers["kiosks"], seeded, secret)
    assert not parent_connects(servers["kiosks"], seeded)


def test_the_peoples_process_takes_parents_and_refuses_kiosks(
    servers: dict[str, Server], seeded: Seeded, secret: str
) -> None:
    assert parent_connects(servers["people"], seeded)
    # Neither on the kiosks' path nor on the default one.
    assert not kiosk_connects(servers["people"], seeded, secret)
    assert not kiosk_connects(servers["people"], seeded, secret, path="socket.io")


def test_one_process_serves_both_kinds_kiosks_on_their_path(
    servers: dict[str, Server], seeded: Seeded, secret: str
) -> None:
    assert kiosk_connects(servers["all"], seeded, secret)
    assert kiosk_connects(servers["all"], seeded, secret, path="socket.io")  # older agents
    assert parent_connects(servers["all"], seeded)


def test_an_unknown_kind_of_process_is_refused() -> None:
    assert serves({"SOCKETS": "kiosks"}, "/kiosk") and not serves({"SOCKETS": "kiosks"}, "/live")
    assert serves({}, "/kiosk") and serves({}, "/live")
    with pytest.raises(ValueError, match="EDIARY_SOCKETS"):
        serves({"SOCKETS": "kiosk"}, "/kiosk")
