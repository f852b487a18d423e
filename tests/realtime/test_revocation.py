"""Every kind of change of access reaches the open sockets within a second, over a real server.

Each operation that changes who may see what declares it (ediary/access/revocation.py); the
server's relay applies the declaration after the commit. The changes are made in this process,
as the CLI or another server process would, and ring the server through Redis. test_live.py
covers unlinking a guardian, a logout and a disabled account; test_real_server.py a revoked
kiosk; here every other kind, one socket each (the world is this module's own).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import socketio

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.kiosks.access import load_enrollment_code
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import enroll_kiosk, issue_enrollment_code
from ediary.people.models import Role, User
from ediary.people.operations import grant_role, revoke_role, set_password
from ediary.schools.models import ClassGroup, Pupil, SchoolClass, Subject
from ediary.schools.operations import add_to_group, link_guardian, move_pupil, set_form_tutor
from ediary.timetable.operations import assign_teacher
from tests.factories import _add, make_subject
from tests.realtime.conftest import (
    LiveClient,
    RedisServer,
    Seeded,
    bound_to,
    live_client,
    login,
)
from tests.servers import Server, running_server

pytestmark = pytest.mark.slow

SYSTEM = Actor.system(Channel.CLI)


@pytest.fixture(scope="module")
def server(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(
        seeded.url, tmp_path_factory.mktemp("revocation"), EDIARY_REDIS_URL=redis_server.url
    ) as started:
        yield started


def _user(name: str, seeded: Seeded) -> User:
    user = db.session.get(User, seeded.ids[name])
    assert user is not None
    return user


def _get(model: Any, name: str, seeded: Seeded) -> Any:
    row = db.session.get(model, seeded.ids[name])
    assert row is not None
    return row


def _english_group(seeded: Seeded) -> ClassGroup:
    """A language group of 5b taught by the teacher of 5a's maths (made before her socket)."""
    school = _get(SchoolClass, "class_b", seeded).school
    english = make_subject(school, "język angielski", "ang")
    group = ClassGroup(school_id=school.id, class_id=seeded.ids["class_b"], name="ang. gr. 1")
    _add(SYSTEM, group)
    teacher, class_b = _user("teacher", seeded), _get(SchoolClass, "class_b", seeded)
    assign_teacher(SYSTEM, teacher, class_b, english, group)
    return group


# (whose socket, what changes, the `reload` reason); each changes that person's rooms.
CHANGES: dict[str, tuple[str, Callable[[Seeded, Any], object], str]] = {
    "guardian linked": (
        "other_parent",
        lambda s, _: link_guardian(SYSTEM, _user("other_parent", s), _get(Pupil, "classmate", s)),
        "access_changed",
    ),
    "role granted": (
        "district_admin",
        lambda s, _: grant_role(
            SYSTEM, _user("district_admin", s), Role.SECRETARY, school_id=s.ids["school"]
        ),
        "access_changed",
    ),
    "role removed": (
        "other_secretary",
        lambda s, _: revoke_role(
            SYSTEM, _user("other_secretary", s), Role.SECRETARY, school_id=s.ids["other_school"]
        ),
        "access_changed",
    ),
    "teaching assignment": (
        "other_teacher",
        lambda s, _: assign_teacher(
            SYSTEM,
            _user("other_teacher", s),
            _get(SchoolClass, "class_a", s),
            _get(Subject, "math", s),
        ),
        "access_changed",
    ),
    "form tutorship": (
        "tutor",
        lambda s, _: set_form_tutor(SYSTEM, _get(SchoolClass, "class_a", s), None),
        "access_changed",
    ),
    "group membership": (
        "teacher",
        lambda s, group_id: add_to_group(
            SYSTEM, db.session.get_one(ClassGroup, group_id), _get(Pupil, "pupil_b", s)
        ),
        "access_changed",
    ),
    "a pupil's class": (
        "parent",
        lambda s, _: move_pupil(SYSTEM, _get(Pupil, "pupil", s), _get(SchoolClass, "class_b", s)),
        "access_changed",
    ),
    "password changed": (
        "school_admin",
        lambda s, _: set_password(SYSTEM, _user("school_admin", s), "an entirely new passphrase"),
        "session_ended",
    ),
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_each_kind_of_change_reaches_the_socket_within_a_second(
    kind: str, server: Server, seeded: Seeded, redis_server: RedisServer
) -> None:
    person, change, reason = CHANGES[kind]
    group_id = None
    if kind == "group membership":
        with bound_to(seeded.url, redis_server.url):
            group_id = _english_group(seeded).id
            db.session.commit()
    client: LiveClient = live_client(server.url, login(server.url, seeded.logins[person]))
    client.connect()
    try:
        assert client.resume(None)["ok"] is True
        with bound_to(seeded.url, redis_server.url):
            change(seeded, group_id)
            db.session.commit()
            changed_at = time.monotonic()
        assert client.wait(lambda c: bool(c.reloads), 1.0), f"{kind}: no reload within a second"
        assert time.monotonic() - changed_at < 1.0
        assert client.reloads == [{"reason": reason}]
        if reason == "session_ended":
            assert client.wait(lambda c: bool(c.disconnects), 1.0)
    finally:
        client.close()


def _enroll(seeded: Seeded, redis_url: str | None) -> str:
    with bound_to(seeded.url, redis_url):
        kiosk = _get(Kiosk, "kiosk", seeded)
        code = load_enrollment_code(issue_enrollment_code(SYSTEM, kiosk))
        assert code is not None
        _kiosk, secret = enroll_kiosk(SYSTEM, code, utcnow())
        db.session.commit()
    return secret


def test_enrolling_a_kiosk_again_cuts_its_old_sockets_within_a_second(
    server: Server, seeded: Seeded, redis_server: RedisServer
) -> None:
    first = _enroll(seeded, redis_server.url)
    pushed: list[tuple[str, Any]] = []
    cut = threading.Event()
    client = socketio.Client(reconnection=False)
    for name in ("revoked", "event"):
        client.on(
            name, lambda data=None, name=name: pushed.append((name, data)), namespace="/kiosk"
        )
    client.on("disconnect", lambda *_: cut.set(), namespace="/kiosk")
    client.connect(
        server.url,
        auth={"kiosk_id": seeded.ids["kiosk"], "secret": first},
        transports=["websocket"],
        namespaces=["/kiosk"],
        wait_timeout=10,
    )
    try:
        assert client.call("room", {}, namespace="/kiosk", timeout=10)["ok"] is True
        second = _enroll(seeded, redis_server.url)
        enrolled_at = time.monotonic()
        assert cut.wait(1.0), "the old connection is still open after a second"
        assert time.monotonic() - enrolled_at < 1.0
        assert [event for event, _data in pushed] == ["revoked"]
        assert pushed[0][1]["error"] == "kiosk_revoked"
        assert pushed[0][1]["message"] == "Ten komputer został odłączony od dziennika."
    finally:
        client.disconnect()
    response = requests.get(f"{server.url}/login", timeout=10)  # the server is fine
    assert response.status_code == 200 and second != first
