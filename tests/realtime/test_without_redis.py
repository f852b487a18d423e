"""One process and no Redis: writes and session ends made elsewhere still arrive, by the poll.

A CLI command or a batch job commits in its own process and, without Redis, can ring nobody;
the relay's poll of the journal and its session sweep are the backstop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.operations import record_grade
from ediary.people.models import User
from ediary.people.operations import end_sessions
from ediary.realtime.relay import POLL_SECONDS, SWEEP_SECONDS
from ediary.schools.models import Pupil, Subject
from tests.realtime.conftest import Seeded, bound_to, live_client, login, school_today
from tests.servers import Server, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(seeded.url, tmp_path_factory.mktemp("alone")) as started:
        yield started


def test_a_write_of_another_process_arrives_within_the_poll(server: Server, seeded: Seeded) -> None:
    parent = live_client(server.url, login(server.url, seeded.logins["parent"])).connect()
    try:
        assert parent.resume(None)["ok"] is True
        with bound_to(seeded.url):  # no Redis: nobody is rung
            record_grade(
                Actor(db.session.get_one(User, seeded.ids["teacher"]), Channel.CLI),
                pupil=db.session.get_one(Pupil, seeded.ids["pupil"]),
                subject=db.session.get_one(Subject, seeded.ids["math"]),
                value="6",
                given_on=school_today(),
            )
            db.session.commit()
        written = time.monotonic()
        assert parent.wait(lambda c: bool(c.events), POLL_SECONDS + 1.0)
        assert time.monotonic() - written <= POLL_SECONDS + 0.5
        assert [(e["type"], e["value"]) for e in parent.events] == [("grade.added", "6")]
    finally:
        parent.close()


def test_sessions_ended_by_another_process_are_swept(server: Server, seeded: Seeded) -> None:
    tutor = live_client(server.url, login(server.url, seeded.logins["tutor"])).connect()
    assert tutor.resume(None)["ok"] is True
    with bound_to(seeded.url):
        end_sessions(Actor.system(Channel.CLI), db.session.get_one(User, seeded.ids["tutor"]))
        db.session.commit()
    assert tutor.wait(lambda c: bool(c.disconnects), SWEEP_SECONDS + POLL_SECONDS + 1.0)
    assert tutor.reloads == [{"reason": "session_ended"}]
