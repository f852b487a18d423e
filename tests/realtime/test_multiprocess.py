"""Two server processes joined by Redis, and Redis restarted in the middle of a stream of writes.

Process A runs with the tests' gunicorn settings, process B with provisioning/gunicorn.conf.py
(so the production settings are exercised too). Parents and staff are spread over both; rolls are
recorded through both processes' lesson form, grades by this process (as a CLI would), and Redis
is stopped and started again while they flow. Every (event, person) pair must arrive exactly
once, in id order.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.operations import record_grade
from ediary.journal.models import JournalEvent
from ediary.people.models import User
from ediary.schools.models import Pupil, Subject
from tests.realtime.conftest import (
    LiveClient,
    RedisServer,
    Seeded,
    WebTeacher,
    bound_to,
    journal_ids,
    live_client,
    login,
)
from tests.realtime.conftest import (
    school_today as _school_today,
)
from tests.servers import ServerConfig, ServerGroup

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def servers(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerGroup]:
    configs = [ServerConfig(seeded.url), ServerConfig(seeded.url, provisioned=True)]
    with ServerGroup(
        configs, tmp_path_factory.mktemp("multi"), redis_url=redis_server.url
    ) as started:
        yield started


def _grade(seeded: Seeded, redis_url: str, pupil: str, value: str) -> None:
    with bound_to(seeded.url, redis_url):
        teacher = db.session.get_one(User, seeded.ids["other_teacher"])
        record_grade(
            Actor(teacher, Channel.WEB),
            pupil=db.session.get_one(Pupil, seeded.ids[pupil]),
            subject=db.session.get_one(Subject, seeded.ids["math"]),
            value=value,
            given_on=_school_today(),
        )
        db.session.commit()


def _audiences(seeded: Seeded) -> dict[str, set[tuple[str, int]]]:
    ids = seeded.ids
    school_a_pupils = {ids[p] for p in ("pupil", "sibling", "classmate", "pupil_b")}
    return {
        "parent": {
            ("pupil", ids["pupil"]),
            ("pupil", ids["sibling"]),
            ("class", ids["class_a"]),
            ("class", ids["class_b"]),
        },
        "other_parent": {("pupil", ids["pupil_b"]), ("class", ids["class_b"])},
        "tutor": {("pupil", ids["pupil"]), ("pupil", ids["classmate"]), ("class", ids["class_a"])},
        "secretary": {("pupil", p) for p in school_a_pupils}
        | {("class", ids["class_a"]), ("class", ids["class_b"])},
        "other_school_admin": {
            ("pupil", ids["pupil_other_school"]),
            ("class", ids["class_other_school"]),
        },
    }


def _expected(rows: list[JournalEvent], audience: set[tuple[str, int]]) -> list[int]:
    return [row.id for row in rows if (row.audience, row.audience_id) in audience]


def test_every_pair_arrives_once_across_processes_and_a_redis_restart(
    servers: ServerGroup, seeded: Seeded, redis_server: RedisServer
) -> None:
    server_a, server_b = servers
    start = journal_ids(seeded.url)
    start_id = start[-1].id if start else 0
    placement = {  # who is connected where; the parent on both (a phone and a laptop)
        ("parent", "A"): server_a,
        ("parent", "B"): server_b,
        ("tutor", "B"): server_b,
        ("secretary", "A"): server_a,
        ("other_parent", "A"): server_a,
        ("other_school_admin", "B"): server_b,
    }
    http = {
        name: login(server_a.url, seeded.logins[name])
        for name in {name for name, _ in placement} | {"teacher"}
    }
    sockets: dict[tuple[str, str], LiveClient] = {}
    for (name, where), server in placement.items():
        client = live_client(server.url, http[name]).connect()
        assert client.sio.transport() == "websocket"
        assert client.resume(start_id)["ok"] is True
        sockets[(name, where)] = client

    # Written through process B (and some through A, and some by this process).
    via_b = WebTeacher(server_b.url, http["teacher"], seeded.ids["lesson"])
    via_a = WebTeacher(server_a.url, http["teacher"], seeded.ids["lesson"])
    pupil, classmate = seeded.ids["pupil"], seeded.ids["classmate"]
    failures: list[BaseException] = []
    progress = threading.Semaphore(0)

    def writes() -> None:
        try:
            for n in range(60):
                web = via_b if n % 3 else via_a
                web.roll(
                    {pupil: ("nb", "ob")[n % 2], classmate: ("ob", "sp")[n % 2]},
                    topic=f"Temat {n // 10}",
                )
                if n % 10 == 5:
                    _grade(seeded, redis_server.url, ("sibling", "pupil_b")[n % 20 // 10], "4")
                progress.release()
        except BaseException as error:  # reported by the main thread
            failures.append(error)
            progress.release()

    writer = threading.Thread(target=writes)
    writer.start()
    for _ in range(20):
        assert progress.acquire(timeout=30)
    redis_server.stop()  # Redis goes away mid-stream...
    for _ in range(15):
        assert progress.acquire(timeout=30)
    time.sleep(1.0)
    redis_server.start()  # ...and comes back on the same port
    writer.join(120)
    assert not failures, failures

    rows = journal_ids(seeded.url, after=start_id)
    assert len(rows) >= 60
    audiences = _audiences(seeded)
    for (name, _where), client in sockets.items():
        count = len(_expected(rows, audiences[name]))
        client.wait_events(count, timeout=15)
    time.sleep(1.0)  # anything doubled would have arrived by now
    for (name, where), client in sockets.items():
        expected = _expected(rows, audiences[name])
        got = [event["id"] for event in client.events]
        assert got == expected, (
            name,
            where,
            {
                "missing": sorted(set(expected) - set(got)),
                "extra": sorted(set(got) - set(expected)),
            },
            {"out_of_order": [(a, b) for a, b in itertools.pairwise(got) if a >= b]},
        )
        assert client.disconnects == []
        client.close()
    assert _expected(rows, audiences["parent"]), "the parent was sent nothing: a vacuous test"
    # The outage was real: both processes lost their doorbell and the poll carried the events.
    for server in servers:
        assert "Redis doorbell lost" in server.log.read_text()


def test_a_parent_on_process_a_gets_an_entry_written_through_process_b_at_once(
    servers: ServerGroup, seeded: Seeded
) -> None:
    server_a, server_b = servers
    parent = live_client(server_a.url, login(server_a.url, seeded.logins["parent"])).connect()
    try:
        assert parent.resume(None)["ok"] is True
        teacher = WebTeacher(
            server_b.url, login(server_b.url, seeded.logins["teacher"]), seeded.ids["lesson"]
        )
        written = time.monotonic()
        teacher.roll({seeded.ids["pupil"]: "u"})
        # Through the Redis doorbell, well before the one-second poll would have found it.
        assert parent.wait(lambda c: bool(c.events), 0.5), "not pushed through Redis"
        assert time.monotonic() - written < 0.5
        assert parent.events[0]["code"] == "u"
    finally:
        parent.close()
