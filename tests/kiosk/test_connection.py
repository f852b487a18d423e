"""The kiosk's link to the server: an acknowledgement awaited on a link that drops is given up at
once, not after the call timeout, so the entry goes again as soon as the link is back."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from kiosk import protocol
from kiosk.config import Config
from kiosk.connection import Connection
from kiosk.credential import Credential
from kiosk.outbox import Unavailable
from tests.kiosk.conftest import Site
from tests.kiosk.proxy import Proxy

pytestmark = pytest.mark.slow


def test_a_call_in_flight_gives_up_when_the_link_drops(
    site: Site, proxy: Proxy, tmp_path: Path
) -> None:
    enrolled = requests.post(
        site.server.url + protocol.ENROLL_PATH, json={"code": site.code()}, timeout=10
    ).json()
    credential = Credential(int(enrolled["kiosk_id"]), str(enrolled["secret"]), proxy.url)
    online = threading.Event()
    connection = Connection(
        Config(server=proxy.url, state_dir=tmp_path, call_timeout_seconds=60),
        lambda: credential,
        auth=protocol.auth,
        is_revocation=protocol.is_revocation,
        on_online=online.set,
        on_offline=lambda: None,
        on_revoked=lambda data: None,
        on_push=lambda event, data: None,
    )
    connection.start()
    try:
        assert online.wait(15)
        assert connection.call(protocol.ROOM, {})["ok"] is True  # answered while the link is up

        outcome: dict[str, Any] = {}

        def wait_for_an_answer_that_cannot_come() -> None:
            try:
                outcome["answer"] = connection.call(protocol.ROOM, {})
            except Unavailable as error:
                outcome["error"] = str(error)

        proxy.cut("drop_replies")  # the request arrives, the acknowledgement does not come back
        caller = threading.Thread(target=wait_for_an_answer_that_cannot_come)
        caller.start()
        caller.join(1.0)
        assert caller.is_alive(), outcome  # still waiting for the acknowledgement
        proxy.cut()  # and then the link drops
        caller.join(15)  # the call's own timeout is 60 s
        assert not caller.is_alive()
        assert outcome == {"error": "disconnected"}
        with pytest.raises(Unavailable):
            connection.call(protocol.ROOM, {})  # the link is down: nothing is pretended sent
    finally:
        connection.stop()
