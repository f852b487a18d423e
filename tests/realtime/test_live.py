"""`/live` end to end: a real gunicorn+gevent server, real WebSockets, writes through the server.

The server is configured with a Redis URL (a private redis-server), so writes made in this test
process (unlinking a guardian, disabling an account: there is no page for them yet) ring it as a
CLI command would; rolls go through the lesson form, so the server itself commits and delivers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.operations import record_grade
from ediary.journal.catalogue import EVENT_TYPES
from ediary.people.models import User
from ediary.people.operations import disable_user
from ediary.realtime.retention import prune_journal
from ediary.schools.models import Pupil, Subject
from ediary.schools.operations import link_guardian, unlink_guardian
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
from tests.servers import Server, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(
    seeded: Seeded, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(
        seeded.url, tmp_path_factory.mktemp("live"), EDIARY_REDIS_URL=redis_server.url
    ) as started:
        yield started


@pytest.fixture(scope="module")
def sessions(server: Server, seeded: Seeded) -> dict[str, Any]:
    """One HTTP login per person for the whole module (the login form allows 20 an hour)."""
    return {
        name: login(server.url, seeded.logins[name])
        for name in (
            "parent",
            "other_parent",
            "teacher",
            "tutor",
            "other_teacher",
            "secretary",
            "other_school_admin",
            "district_admin",
        )
    }


@pytest.fixture
def connect(server: Server, sessions: dict[str, Any]) -> Iterator[Callable[..., LiveClient]]:
    opened: list[LiveClient] = []

    def open_socket(name: str, last_id: int | None = None) -> LiveClient:
        client = live_client(server.url, sessions[name]).connect()
        opened.append(client)
        ack = client.resume(last_id)
        assert ack["ok"] is True, ack
        return client

    yield open_socket
    for client in opened:
        client.close()


@pytest.fixture(scope="module")
def teacher(server: Server, sessions: dict[str, Any], seeded: Seeded) -> WebTeacher:
    return WebTeacher(server.url, sessions["teacher"], seeded.ids["lesson"])


def _grade(seeded: Seeded, redis_url: str | None, pupil: str, value: str) -> int:
    """A grade written by another process (this one), which rings the servers through Redis."""
    with bound_to(seeded.url, redis_url):
        teacher = db.session.get_one(User, seeded.ids["other_teacher"])
        grade = record_grade(
            Actor(teacher, Channel.WEB),
            pupil=db.session.get_one(Pupil, seeded.ids[pupil]),
            subject=db.session.get_one(Subject, seeded.ids["math"]),
            value=value,
            given_on=_school_today(),
        )
        db.session.commit()
        return grade.id


def _ids(client: LiveClient) -> list[int]:
    return [event["id"] for event in client.events]


def test_a_roll_reaches_exactly_the_people_who_may_see_it_once_and_in_order(
    connect: Callable[..., LiveClient], teacher: WebTeacher, seeded: Seeded
) -> None:
    people = (
        "parent",
        "other_parent",
        "teacher",
        "tutor",
        "other_teacher",
        "secretary",
        "other_school_admin",
        "district_admin",
    )
    sockets = {name: connect(name) for name in people}
    assert all(s.sio.transport() == "websocket" for s in sockets.values())
    start = journal_ids(seeded.url)[-1].id if journal_ids(seeded.url) else 0

    pupil, classmate = seeded.ids["pupil"], seeded.ids["classmate"]
    teacher.roll({pupil: "nb", classmate: "nb"}, topic="Ułamki zwykłe")
    teacher.roll({pupil: "ob"})

    written = journal_ids(seeded.url, after=start)
    assert [e.type for e in written] == [
        "attendance.recorded",
        "attendance.recorded",
        "lesson.topic",
        "attendance.recorded",
    ]
    everything = [e.id for e in written]
    theirs = {("pupil", pupil), ("class", seeded.ids["class_a"])}
    for_parent = [e.id for e in written if (e.audience, e.audience_id) in theirs]
    assert len(for_parent) == 3
    expected = {
        "parent": for_parent,
        "teacher": everything,
        "tutor": everything,
        "secretary": everything,
    }
    for name, ids in expected.items():
        sockets[name].wait_events(len(ids))
    time.sleep(0.5)  # time for anything that should not come
    for name in people:
        assert _ids(sockets[name]) == expected.get(name, []), name


def test_payloads_carry_the_catalogue_fields_and_nothing_more(
    connect: Callable[..., LiveClient], teacher: WebTeacher, seeded: Seeded
) -> None:
    parent = connect("parent")
    teacher.roll({seeded.ids["pupil"]: "sp"}, topic="Ułamki dziesiętne")
    events = parent.wait_events(2)
    assert [e["type"] for e in events] == ["attendance.recorded", "lesson.topic"]
    for event in events:
        assert set(event) == {"id", "type", "at"} | EVENT_TYPES[event["type"]].fields
        assert event.get("pupil_id", seeded.ids["pupil"]) == seeded.ids["pupil"]
    assert events[0]["code"] == "sp" and events[1]["topic"] == "Ułamki dziesiętne"


def test_resume_replays_exactly_the_fifty_missed_events_in_order(
    connect: Callable[..., LiveClient],
    teacher: WebTeacher,
    seeded: Seeded,
    server: Server,
    sessions: dict[str, Any],
) -> None:
    parent = connect("parent")
    teacher.roll({seeded.ids["pupil"]: "ob"})
    parent.wait_events(1)
    last_applied = parent.last_id  # what live.js keeps in sessionStorage
    parent.close()

    before = journal_ids(seeded.url)[-1].id
    codes = ["nb", "ob"]
    for n in range(50):
        teacher.roll({seeded.ids["pupil"]: codes[n % 2]})
    missed = [e.id for e in journal_ids(seeded.url, after=before)]
    assert len(missed) == 50

    back = live_client(server.url, sessions["parent"]).connect()
    try:
        ack = back.resume(last_applied)
        assert ack == {"ok": True, "last_id": missed[-1], "replayed": 50}
        assert _ids(back) == missed  # replayed before the acknowledgement, in id order
        teacher.roll({seeded.ids["pupil"]: "nb"})  # then live, once
        back.wait_events(51)
        time.sleep(0.3)
        assert len(back.events) == 51 and back.events[-1]["id"] > missed[-1]
        assert len(set(_ids(back))) == 51
    finally:
        back.close()


def test_refused_connections_get_a_clear_error_and_change_nothing(
    server: Server, sessions: dict[str, Any], teacher: WebTeacher, seeded: Seeded
) -> None:
    anonymous = LiveClient(server.url, cookie="")
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect()
    # The CONNECT_ERROR packet: a message for people, a code for programs.
    assert anonymous.refusals[0]["data"] == {"error": "unauthenticated"}
    assert anonymous.refusals[0]["message"] == "Sesja wygasła. Zaloguj się ponownie."

    # A page of another site rides on the parent's cookie: refused at the handshake.
    foreign = live_client(server.url, sessions["parent"])
    with pytest.raises(socketio.exceptions.ConnectionError):
        _connect_with_origin(foreign, "http://evil.example")
    assert not foreign.sio.connected

    # No Origin at all (not a browser, or a stripped header): refused by the namespace.
    bare = live_client(server.url, sessions["parent"])
    with pytest.raises(socketio.exceptions.ConnectionError):
        _connect_with_origin(bare, None)
    assert bare.refusals[0]["data"] == {"error": "origin"}

    teacher.roll({seeded.ids["pupil"]: "sp"})
    time.sleep(0.8)
    assert not anonymous.events and not foreign.events and not bare.events


def _connect_with_origin(client: LiveClient, origin: str | None) -> None:
    extra = {"suppress_origin": True} if origin is None else {"origin": origin}
    client.sio = socketio.Client(reconnection=False, websocket_extra_options=extra)
    client.sio.on("event", client._on_event, namespace="/live")
    client.sio.on("connect_error", client._on_refusal, namespace="/live")
    client.sio.connect(
        client.base_url,
        headers={"Cookie": client.cookie},
        transports=["websocket"],
        namespaces=["/live"],
        wait_timeout=5,
    )


def test_every_event_is_authorised_and_bad_ones_are_refused_plainly(
    server: Server, sessions: dict[str, Any]
) -> None:
    client = live_client(server.url, sessions["parent"]).connect()
    try:
        assert client.call("grades", {"pupil_id": 1}) == {
            "ok": False,
            "error": "unknown_event",
            "message": "Nieznane polecenie.",
        }
        for bad in ({"last_id": -1}, {"last_id": "7"}, {"since": 3}, [1], None, {"last_id": True}):
            refused = client.call("resume", bad)
            assert refused["ok"] is False and refused["error"] == "bad_request", bad
            assert refused["message"]
        assert client.resume(None)["ok"] is True
        again = client.resume(None)
        assert again["ok"] is False and again["error"] == "already_resumed"
    finally:
        client.close()


def test_a_client_ahead_of_the_journal_is_told_to_reload(
    server: Server, sessions: dict[str, Any]
) -> None:
    client = live_client(server.url, sessions["parent"]).connect()
    try:
        ack = client.resume(10**12)
        assert ack == {"ok": False, "error": "reload", "reason": "ahead"}
        assert client.wait(lambda c: bool(c.reloads), 2)
        assert client.reloads == [{"reason": "ahead"}]
    finally:
        client.close()


def test_unlinking_a_guardian_stops_that_childs_events_within_a_second(
    connect: Callable[..., LiveClient],
    teacher: WebTeacher,
    seeded: Seeded,
    redis_server: RedisServer,
) -> None:
    parent = connect("parent")
    with bound_to(seeded.url, redis_server.url):
        user = db.session.get_one(User, seeded.ids["parent"])
        unlink_guardian(
            Actor.system(Channel.CLI), user, db.session.get_one(Pupil, seeded.ids["pupil"])
        )
        db.session.commit()
        unlinked_at = time.monotonic()
    try:
        assert parent.wait(lambda c: bool(c.reloads), 1.0), "no reload within a second"
        assert time.monotonic() - unlinked_at < 1.0
        assert parent.reloads == [{"reason": "access_changed"}]
        teacher.roll({seeded.ids["pupil"]: "nb"}, topic="Po odłączeniu")
        sibling_grade = _grade(seeded, redis_server.url, "sibling", "5")
        parent.wait(lambda c: any(e.get("grade_id") == sibling_grade for e in c.events), 5)
        time.sleep(0.3)
        # The sibling is still theirs; the unlinked child and its class are not.
        assert [e["type"] for e in parent.events] == ["grade.added"]
        assert parent.events[0]["pupil_id"] == seeded.ids["sibling"]
    finally:
        with bound_to(seeded.url, redis_server.url):
            user = db.session.get_one(User, seeded.ids["parent"])
            link_guardian(
                Actor.system(Channel.CLI), user, db.session.get_one(Pupil, seeded.ids["pupil"])
            )
            db.session.commit()


def test_logging_out_ends_every_socket_of_the_account_within_a_second(
    server: Server, seeded: Seeded, teacher: WebTeacher
) -> None:
    # Two sessions of the secretary: a socket on one, the logout on the other (logout ends all).
    watching = login(server.url, seeded.logins["school_admin"])
    other_device = login(server.url, seeded.logins["school_admin"])
    client = live_client(server.url, watching).connect()
    assert client.resume(None)["ok"] is True
    token = _token(server.url, other_device)
    response = other_device.post(
        f"{server.url}/logout", data={"csrf_token": token}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    logged_out = time.monotonic()
    assert client.wait(lambda c: bool(c.disconnects), 1.0), "still connected after a second"
    assert time.monotonic() - logged_out < 1.0
    assert client.reloads == [{"reason": "session_ended"}]
    teacher.roll({seeded.ids["pupil"]: "ob"})
    time.sleep(0.5)
    assert client.events == []
    again = live_client(server.url, watching)
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect()
    assert again.refusals[0]["data"] == {"error": "unauthenticated"}


def _token(base_url: str, http: Any) -> str:
    from tests.realtime.conftest import csrf_token

    return csrf_token(http.get(f"{base_url}/", timeout=10).text)


def test_disabling_an_account_disconnects_it_within_a_second(
    server: Server, sessions: dict[str, Any], seeded: Seeded, redis_server: RedisServer
) -> None:
    client = live_client(server.url, sessions["other_parent"]).connect()
    assert client.resume(None)["ok"] is True
    with bound_to(seeded.url, redis_server.url):
        disable_user(
            Actor.system(Channel.CLI), db.session.get_one(User, seeded.ids["other_parent"])
        )
        db.session.commit()
        disabled_at = time.monotonic()
    assert client.wait(lambda c: bool(c.disconnects), 1.0), "still connected after a second"
    assert time.monotonic() - disabled_at < 1.0
    assert client.reloads == [{"reason": "session_ended"}]
    _grade(seeded, redis_server.url, "pupil_b", "3")
    time.sleep(0.5)
    assert client.events == []


def test_a_stale_last_id_gets_reload(
    server: Server, sessions: dict[str, Any], seeded: Seeded, teacher: WebTeacher
) -> None:
    """Runs last in this module: it prunes the journal."""
    teacher.roll({seeded.ids["pupil"]: "nb"})
    teacher.roll({seeded.ids["pupil"]: "ob"})
    with bound_to(seeded.url):
        import datetime as dt

        pruned = prune_journal(days=0, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        db.session.commit()
    assert pruned > 0
    remaining = journal_ids(seeded.url)
    assert len(remaining) == 1  # the newest row is always kept
    client = live_client(server.url, sessions["parent"]).connect()
    try:
        ack = client.resume(remaining[0].id - 2)
        assert ack == {"ok": False, "error": "reload", "reason": "stale"}
        assert client.wait(lambda c: bool(c.reloads), 2)
        assert client.reloads == [{"reason": "stale"}]
        assert client.events == []
    finally:
        client.close()
    fresh = live_client(server.url, sessions["parent"]).connect()
    try:
        assert fresh.resume(remaining[0].id - 1) == {
            "ok": True,
            "last_id": remaining[0].id,
            "replayed": 1,
        }
    finally:
        fresh.close()
