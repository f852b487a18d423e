"""The kiosk's "delivered to parents" with two server processes joined by Redis (issue 10, item 6).

`delivered` used to mean that the relay of the kiosk's own process had pushed the entry: with the
parent's socket on the other process, the kiosk said "delivered" while the parent had nothing.
Here the kiosk talks to process A and the parent to process B; B's worker is paused (SIGSTOP)
while the teacher's roll goes in through A, so nothing can reach the parent until it resumes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db, utcnow
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import issue_enrollment_code
from ediary.timetable.models import Lesson
from tests import factories
from tests.realtime.conftest import RedisServer, Seeded, bound_to, cookie_header, login
from tests.realtime.raw import RawSocket
from tests.servers import Server, ServerConfig, ServerGroup

pytestmark = pytest.mark.slow

SYSTEM = Actor.system(Channel.CLI)


@operation
def _now(actor: Actor, lesson: Lesson) -> None:
    """The kiosk records only the lesson held now in its room."""
    now = utcnow()
    lesson.starts_at, lesson.ends_at = now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=40)


@pytest.fixture(scope="module")
def servers(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerGroup]:
    with bound_to(seeded.url):
        _now(SYSTEM, db.session.get_one(Lesson, seeded.ids["lesson"]))
        db.session.commit()
    logs = tmp_path_factory.mktemp("delivered")
    configs = [ServerConfig(seeded.url)] * 2
    with ServerGroup(configs, logs, redis_url=redis_server.url) as started:
        yield started


class ClassroomKiosk:
    """The classroom kiosk on process A, logged in as the lesson's teacher."""

    def __init__(self, server: Server, seeded: Seeded) -> None:
        with bound_to(seeded.url):
            code = issue_enrollment_code(SYSTEM, db.session.get_one(Kiosk, seeded.ids["kiosk"]))
            db.session.commit()
        enrolled = requests.post(f"{server.url}/api/kiosk/enroll", json={"code": code}, timeout=10)
        assert enrolled.status_code == 200, enrolled.text
        self.socket = RawSocket(server.url, "/kiosk")
        self.socket.connect({"kiosk_id": seeded.ids["kiosk"], "secret": enrolled.json()["secret"]})
        login = self.socket.call(
            "teacher_login", {"login": seeded.logins["teacher"], "password": factories.PASSWORD}
        )
        assert login["ok"] is True, login
        self.session, self.lesson_id, self.pupil_id = (
            login["session"],
            seeded.ids["lesson"],
            seeded.ids["pupil"],
        )

    def roll(self, code: str, base: str | None) -> dict[str, Any]:
        ack = self.socket.call(
            "submit",
            {
                "key": str(uuid.uuid4()),
                "session": self.session,
                "kind": "roll",
                "lesson_id": self.lesson_id,
                "payload": {
                    "states": {str(self.pupil_id): code},
                    "base": {str(self.pupil_id): base},
                },
            },
        )
        assert ack["ok"] is True and ack["status"] == "applied" and ack["delivered"] is False, ack
        return ack

    def delivered(self, key: str) -> list[float]:
        """When the `delivered` notices of the entry `key` arrived."""
        with self.socket.changed:
            return [
                at
                for (name, args, at) in self.socket.events
                if name == "delivered" and args[0]["key"] == key
            ]


@pytest.fixture(scope="module")
def kiosk(servers: ServerGroup, seeded: Seeded) -> Iterator[ClassroomKiosk]:
    made = ClassroomKiosk(servers[0], seeded)
    yield made
    made.socket.close()


@pytest.fixture
def parent(servers: ServerGroup, seeded: Seeded) -> Iterator[RawSocket]:
    """The parent's phone, on process B."""
    server_b = servers[1]
    cookie = cookie_header(login(server_b.url, seeded.logins["parent"]))
    raw = RawSocket(server_b.url, "/live", cookie=cookie)
    raw.connect()
    assert raw.call("resume", {"last_id": None})["ok"] is True
    yield raw
    raw.close()


def _events_with(parent: RawSocket, event_ids: list[int]) -> list[float]:
    """When the parent's socket received any of `event_ids`."""
    with parent.changed:
        return [
            at
            for (name, args, at) in parent.events
            if name == "event" and args[0]["id"] in event_ids
        ]


def test_delivered_waits_for_the_parents_process(
    servers: ServerGroup, kiosk: ClassroomKiosk, parent: RawSocket
) -> None:
    # Both processes running: the entry reaches the parent and the kiosk hears "delivered".
    warm = kiosk.roll("nb", None)
    assert kiosk.socket.wait(lambda s: bool(kiosk.delivered(warm["key"])), 5)
    assert parent.wait(lambda s: bool(_events_with(s, warm["event_ids"])), 5)

    worker = servers[1].worker_pid()
    os.kill(worker, signal.SIGSTOP)
    try:
        ack = kiosk.roll("sp", "nb")
        time.sleep(1.0)
        assert kiosk.delivered(ack["key"]) == [], "delivered while the parent's process is paused"
        assert _events_with(parent, ack["event_ids"]) == []
    finally:
        os.kill(worker, signal.SIGCONT)
    assert parent.wait(lambda s: bool(_events_with(s, ack["event_ids"])), 5)
    assert kiosk.socket.wait(lambda s: bool(kiosk.delivered(ack["key"])), 5)
    # Only then: B pushed the entry to the parent before it told A its head. (The two sockets
    # are read by two threads of this process, which may note the arrivals a moment apart.)
    told, pushed = min(kiosk.delivered(ack["key"])), min(_events_with(parent, ack["event_ids"]))
    assert told >= pushed - 0.1, (told, pushed)
