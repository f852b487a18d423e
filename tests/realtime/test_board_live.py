"""The gmina's 8:15 board live, end to end: a real gunicorn+gevent server, a real WebSocket of the
district administrator, a roll taken through the lesson form. The `board` signal arrives within
2 s and names only the school; the board's figures read after it show the roll. The server keeps
the suite's clock (tests/clock.py): the seeded lesson has begun today, so the day's figures hold at
any hour."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.realtime.conftest import LiveClient, RedisServer, Seeded, WebTeacher, live_client, login
from tests.servers import Server, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(
        seeded.url, tmp_path_factory.mktemp("board"), EDIARY_REDIS_URL=redis_server.url
    ) as started:
        yield started


def _with_board_signals(client: LiveClient) -> list[dict[str, Any]]:
    signals: list[dict[str, Any]] = []

    def heard(message: dict[str, Any]) -> None:
        with client.changed:
            signals.append(message)
            client.changed.notify_all()

    client.sio.on("board", heard, namespace="/live")
    return signals


def _day(table: str, school: str) -> str:
    card = table.split(f'data-school="{school}"')[1].split("</li>")[0]
    found = re.search(r'<dd class="day">([^<]*)</dd>', card)
    assert found is not None
    return found.group(1).strip()


def test_a_roll_reaches_the_board_within_two_seconds(server: Server, seeded: Seeded) -> None:
    gmina = login(server.url, seeded.logins["district_admin"])
    home = gmina.get(f"{server.url}/", timeout=10).text
    district = re.search(r'href="/districts/(\d+)"', home)
    assert district is not None
    table_url = f"{server.url}/districts/{district.group(1)}/board/table"
    school = str(seeded.ids["school"])
    before = _day(gmina.get(table_url, timeout=10).text, school)

    board = live_client(server.url, gmina).connect()
    parent = live_client(server.url, login(server.url, seeded.logins["parent"])).connect()
    try:
        signals = _with_board_signals(board)
        parent_signals = _with_board_signals(parent)
        assert board.resume(None)["ok"] is True and parent.resume(None)["ok"] is True
        teacher = WebTeacher(
            server.url, login(server.url, seeded.logins["teacher"]), seeded.ids["lesson"]
        )
        taken = time.monotonic()
        teacher.roll({seeded.ids["pupil"]: "nb"})
        assert board.wait(lambda _c: bool(signals), timeout=2.0), "no board signal within 2 s"
        assert time.monotonic() - taken < 2.0
        assert signals[0] == {"school_id": seeded.ids["school"]}  # the school, nothing else
        after = _day(gmina.get(table_url, timeout=10).text, school)
        assert (before, after) == ("0 / 1", "1 / 1")
        parent.wait_events(1)
        time.sleep(0.3)
        assert board.events == []  # the gmina gets no journal event, no pupil
        assert parent_signals == []  # and a parent no board signal
        assert len(signals) == 1  # one signal for the whole roll of the class
    finally:
        board.close()
        parent.close()
