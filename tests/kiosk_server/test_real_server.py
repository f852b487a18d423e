"""The kiosk protocol through a real server process: gunicorn with the gevent worker, a SQLite
file database, Redis for the doorbell, python-socketio's client over WebSocket.

One server for the module (starting one takes a second or two); each test uses its own kiosk or
its own idempotency keys, so the order of the tests does not matter.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import socketio
import websocket
from sqlalchemy import func, select

import ediary.models  # noqa: F401 - create_all below needs every table, this file alone too
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import Base, db, utcnow
from ediary.diary.models import Attendance
from ediary.journal.models import JournalEvent
from ediary.kiosks.models import Kiosk, ProcessedSubmission
from ediary.kiosks.operations import create_kiosk, issue_enrollment_code, revoke_kiosk
from ediary.people.models import Role
from ediary.timetable.models import Lesson
from tests import factories
from tests.realtime.conftest import bound_to
from tests.servers import RedisServer, Server, running_server, start_or_skip

pytestmark = pytest.mark.slow

NS = "/kiosk"
SYSTEM = Actor.system(Channel.CLI)
# The production time and memory cost (config.py), one lane: ~0.2 s of CPU per verification.
HEAVY_ARGON2: dict[str, Any] = {
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_KIB": 65536,
    "ARGON2_PARALLELISM": 1,
}


@operation
def _retime(actor: Actor, lesson: Lesson) -> None:
    now = utcnow()
    lesson.starts_at, lesson.ends_at = now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=40)


@dataclass
class Seeded:
    url: str
    ids: dict[str, int]
    logins: dict[str, str]
    codes: dict[str, str]


def seed(url: str) -> Seeded:
    today = dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()
    with bound_to(url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = factories.make_world(today)
        _retime(SYSTEM, world.lesson)
        kiosks = {"main": world.kiosk}
        for name, room in (("twin", "14"), ("revoked", "15"), ("spare", "16")):
            kiosks[name] = create_kiosk(SYSTEM, factories.make_room(world.school, room))
        codes = {name: issue_enrollment_code(SYSTEM, kiosk) for name, kiosk in kiosks.items()}
        db.session.commit()
    with bound_to(url, **HEAVY_ARGON2):
        slow = factories.make_user("wolny_nauczyciel", Role.TEACHER, school=world.school)
        db.session.commit()
        logins = {"teacher": world.teacher.login, "slow": slow.login}
    return Seeded(
        url,
        {
            "lesson": world.lesson.id,
            "pupil": world.pupil.id,
            "classmate": world.classmate.id,
            **{f"kiosk_{name}": kiosk.id for name, kiosk in kiosks.items()},
        },
        logins,
        codes,
    )


@dataclass
class Served:
    server: Server
    seeded: Seeded
    redis_url: str
    secrets: dict[str, str] = field(default_factory=dict)

    def secret(self, name: str) -> str:
        """Enrolls the kiosk over HTTP the first time it is asked for."""
        if name not in self.secrets:
            response = requests.post(
                f"{self.server.url}/api/kiosk/enroll",
                json={"code": self.seeded.codes[name]},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            self.secrets[name] = response.json()["secret"]
        return self.secrets[name]

    def kiosk(self, name: str = "main") -> KioskClient:
        return KioskClient(self.server.url).connect(
            self.seeded.ids[f"kiosk_{name}"], self.secret(name)
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("kiosk_server")
    seeded = seed(f"sqlite:///{directory / 'ediary.db'}")
    with (
        start_or_skip(RedisServer(directory)) as queue,
        running_server(seeded.url, directory, EDIARY_REDIS_URL=queue.url) as server,
    ):
        yield Served(server, seeded, queue.url)


class KioskClient:
    """What the kiosk agent does on the wire, with everything it receives kept for the test."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.received: list[tuple[str, Any]] = []
        self.changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        for name in ("delivered", "event", "revoked", "connect_error", "disconnect"):
            self.sio.on(name, self._keeper(name), namespace=NS)

    def _keeper(self, name: str) -> Callable[..., None]:
        def keep(data: Any = None, *_rest: Any) -> None:
            with self.changed:
                self.received.append((name, data))
                self.changed.notify_all()

        return keep

    def connect(self, kiosk_id: int | None, secret: str | None) -> KioskClient:
        auth = None if kiosk_id is None else {"kiosk_id": kiosk_id, "secret": secret}
        self.sio.connect(
            self.base_url, transports=["websocket"], namespaces=[NS], auth=auth, wait_timeout=10
        )
        return self

    def call(self, event: str, data: Any = None) -> Any:
        return self.sio.call(event, data, namespace=NS, timeout=15)

    def got(self, name: str) -> list[Any]:
        with self.changed:
            return [data for kind, data in self.received if kind == name]

    def wait_for(self, name: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not any(kind == name for kind, _ in self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)
        return True

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def _count(url: str, model: Any, *where: Any) -> int:
    with bound_to(url):
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _submit(
    client: KioskClient,
    token: str,
    lesson_id: int,
    payload: dict[str, Any],
    key: str | None = None,
    kind: str = "roll",
) -> Any:
    return client.call(
        "submit",
        {
            "key": key or str(uuid.uuid4()),
            "session": token,
            "kind": kind,
            "lesson_id": lesson_id,
            "payload": payload,
        },
    )


def test_enroll_login_and_a_roll_acknowledged_after_commit(served: Served) -> None:
    seeded = served.seeded
    kiosk = served.kiosk()
    try:
        room = kiosk.call("room")
        assert room["ok"] is True and [x["id"] for x in room["lessons"]] == [seeded.ids["lesson"]]
        login = kiosk.call(
            "teacher_login",
            {"login": seeded.logins["teacher"], "password": factories.PASSWORD, "pin": "2468"},
        )
        assert login["ok"] is True and login["lesson_now"] == seeded.ids["lesson"]
        roster = kiosk.call(
            "roster", {"session": login["session"], "lesson_id": login["lesson_now"]}
        )
        assert {p["id"] for p in roster["pupils"]} == {seeded.ids["pupil"], seeded.ids["classmate"]}

        key = str(uuid.uuid4())
        payload = {
            "states": {str(seeded.ids["pupil"]): "nb"},
            "base": {str(seeded.ids["pupil"]): None},
            "topic": "Ułamki",
            "base_topic": None,
        }
        ack = _submit(kiosk, login["session"], seeded.ids["lesson"], payload, key)
        assert ack["ok"] is True and ack["status"] == "applied"
        # Acknowledged after the commit: another connection sees everything at once.
        lesson_rows = Attendance.lesson_id == seeded.ids["lesson"]
        assert _count(seeded.url, Attendance, lesson_rows) == 2
        assert _count(seeded.url, ProcessedSubmission, ProcessedSubmission.key == key) == 1
        assert _count(seeded.url, JournalEvent, JournalEvent.id.in_(ack["event_ids"])) == 3
        # The relay pushes the events to parents, then the kiosk hears "delivered".
        assert kiosk.wait_for("delivered", timeout=5)
        assert kiosk.got("delivered") == [{"key": key, "event_ids": ack["event_ids"]}]

        again = _submit(kiosk, login["session"], seeded.ids["lesson"], payload, key)
        assert again["status"] == "duplicate" and again["result"] == ack["result"]
        assert _count(seeded.url, JournalEvent) == len(ack["event_ids"])
        other = _submit(kiosk, login["session"], seeded.ids["lesson"], {"states": {}}, key)
        assert other["error"] == "key_reused"
    finally:
        kiosk.close()


@pytest.mark.parametrize(
    "auth",
    [None, {"kiosk_id": 1, "secret": "not the secret"}, {"kiosk_id": 999, "secret": "x"}],
    ids=["no credentials", "wrong secret", "unknown kiosk"],
)
def test_a_device_that_cannot_prove_itself_is_refused(served: Served, auth: Any) -> None:
    client = KioskClient(served.server.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(auth and auth["kiosk_id"], auth and auth["secret"])
    [refusal] = client.got("connect_error")
    assert refusal["data"]["error"] == "kiosk_unknown"
    assert refusal["message"] == refusal["data"]["message"] != ""


def test_identical_twins_racing_on_two_sockets_are_stored_once(served: Served) -> None:
    seeded = served.seeded
    first, second = served.kiosk("twin"), served.kiosk("twin")
    try:
        token = first.call(
            "teacher_login", {"login": seeded.logins["teacher"], "password": factories.PASSWORD}
        )["session"]
        # The twin kiosk is in room 14; the lesson is in room 12: use a topic on a lesson there.
        lesson_id = _twin_lesson(seeded)
        key = str(uuid.uuid4())
        acks: list[Any] = []
        start = threading.Barrier(2)

        def send(client: KioskClient) -> None:
            start.wait()
            acks.append(
                _submit(
                    client,
                    token,
                    lesson_id,
                    {"topic": "Bliźnięta", "base_topic": None},
                    key,
                    kind="topic",
                )
            )

        threads = [threading.Thread(target=send, args=(c,)) for c in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert sorted(a["status"] for a in acks) == ["applied", "duplicate"], acks
        assert acks[0]["result"] == acks[1]["result"]
        assert _count(seeded.url, ProcessedSubmission, ProcessedSubmission.key == key) == 1
        topic_events = JournalEvent.type == "lesson.topic"
        assert (
            _count(
                seeded.url, JournalEvent, topic_events, JournalEvent.id.in_(acks[0]["event_ids"])
            )
            == 1
        )
    finally:
        first.close()
        second.close()


_twin_lessons: dict[str, int] = {}


def _twin_lesson(seeded: Seeded) -> int:
    if "id" not in _twin_lessons:
        with bound_to(seeded.url):
            world_lesson = db.session.get(Lesson, seeded.ids["lesson"])
            kiosk = db.session.get(Kiosk, seeded.ids["kiosk_twin"])
            assert world_lesson is not None and kiosk is not None
            lesson = _lesson_like(SYSTEM, world_lesson, kiosk.room_id)
            db.session.commit()
            _twin_lessons["id"] = lesson.id
    return _twin_lessons["id"]


@operation
def _lesson_like(actor: Actor, model: Lesson, room_id: int) -> Lesson:
    lesson = Lesson(
        school_id=model.school_id,
        date=model.date,
        slot_number=model.slot_number + 5,
        starts_at=model.starts_at,
        ends_at=model.ends_at,
        class_id=model.class_id,
        subject_id=model.subject_id,
        teacher_id=model.teacher_id,
        room_id=room_id,
    )
    db.session.add(lesson)
    return lesson


def _raw_kiosk(served: Served) -> websocket.WebSocket:
    """A WebSocket speaking Socket.IO by hand, connected to /kiosk as the main kiosk."""
    url = served.server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    auth = {"kiosk_id": served.seeded.ids["kiosk_main"], "secret": served.secret("main")}
    raw = websocket.create_connection(url, timeout=5)
    raw.recv()  # the Engine.IO open packet
    raw.send("40/kiosk," + json.dumps(auth))
    assert _text(raw).startswith("40/kiosk,")
    return raw


def _text(raw: websocket.WebSocket) -> str:
    frame = raw.recv()
    assert isinstance(frame, str), frame  # Socket.IO's packets are text frames
    return frame


def test_garbage_on_the_wire_leaves_the_server_serving(served: Served) -> None:
    raw = _raw_kiosk(served)
    try:
        for garbage in (
            '42/kiosk,["submit"',  # cut short
            '42/kiosk,1["submit",{"key":',
            "42/kiosk,{}",  # an event that is not a list
            '42/kiosk,2["submit",' + "[" * 5000 + "]" * 5000 + "]",  # deep
            '42/kiosk,4["submit",' + "[" * 200_000 + "]",  # deeper than json can go
            '42/kiosk,3["room",{"x":"\\ud800"}]',  # a lone surrogate
            "4" + "9" * 20,  # no such packet type
        ):
            raw.send(garbage)
        raw.send('42/kiosk,7["submit",null]')
        answer = ""
        deadline = time.monotonic() + 5
        while not answer.startswith("43/kiosk,7") and time.monotonic() < deadline:
            answer = _text(raw)
        assert json.loads(answer.removeprefix("43/kiosk,7"))[0]["error"] == "invalid"
    finally:
        raw.close()
    # Bytes that are not even a text frame: the server may hang up on this socket, no more.
    raw = _raw_kiosk(served)
    raw.send("\x00\x01\x02")
    with contextlib.suppress(websocket.WebSocketException, OSError):
        raw.recv()
    raw.close()
    assert served.server.running
    kiosk = served.kiosk()
    try:
        assert kiosk.call("room")["ok"] is True
    finally:
        kiosk.close()


def test_revocation_disconnects_the_kiosk_within_a_second(served: Served) -> None:
    seeded = served.seeded
    kiosk = served.kiosk("revoked")
    try:
        assert kiosk.call("room")["ok"] is True
        with bound_to(seeded.url, served.redis_url):  # an administrator's command
            target = db.session.get(Kiosk, seeded.ids["kiosk_revoked"])
            assert target is not None
            revoke_kiosk(SYSTEM, target)
            db.session.commit()
        revoked = time.monotonic()
        assert kiosk.wait_for("disconnect", timeout=3)
        assert time.monotonic() - revoked < 1.0
        events = kiosk.got("event")
        assert [e["type"] for e in events] == ["kiosk.revoked"]  # told why, before the cut
    finally:
        kiosk.close()
    again = KioskClient(served.server.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect(seeded.ids["kiosk_revoked"], served.secret("revoked"))
    assert again.got("connect_error")[0]["data"]["error"] == "kiosk_revoked"


def test_password_hashing_does_not_stall_other_sockets(served: Served) -> None:
    """Three full logins with argon2's real cost, while another kiosk keeps asking: its answers
    stay quick because the hashing runs in gevent's thread pool, not on the event loop (on the
    loop, every answer would wait for the hashes in front of it: 0.2 s and more)."""
    seeded = served.seeded
    busy, watcher = served.kiosk("spare"), served.kiosk()
    try:
        logins: list[float] = []

        def log_in() -> None:
            started = time.monotonic()
            ack = busy.call(
                "teacher_login", {"login": seeded.logins["slow"], "password": factories.PASSWORD}
            )
            assert ack["ok"] is True, ack
            logins.append(time.monotonic() - started)

        threads = [threading.Thread(target=log_in) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        pings: list[float] = []
        while any(thread.is_alive() for thread in threads):
            started = time.monotonic()
            assert watcher.call("room")["ok"] is True
            pings.append(time.monotonic() - started)
        for thread in threads:
            thread.join()
        pings.sort()
        # Relative, so that a busy machine slows both sides alike: on the loop, each answer would
        # wait for a whole hash, and there would be about one answer per login.
        assert min(logins) > 0.15, logins  # the hashing really was expensive
        assert len(pings) >= 3 * len(logins), (pings, logins)
        assert pings[len(pings) // 2] < min(logins) / 5, (pings, logins)
    finally:
        busy.close()
        watcher.close()


def test_a_kiosk_showing_a_lesson_hears_its_changes_made_elsewhere(served: Served) -> None:
    """Issue 10, item 1: loading a lesson's roster puts the socket in the lesson's room; the
    relay sends the lesson's roll and topic events there. A sheet read ahead (`follow: false`)
    and a socket whose teacher locked the screen hear nothing."""
    seeded = served.seeded
    lesson, classmate = seeded.ids["lesson"], seeded.ids["classmate"]
    screen, other = served.kiosk(), served.kiosk()
    try:
        token = screen.call(
            "teacher_login", {"login": seeded.logins["teacher"], "password": factories.PASSWORD}
        )["session"]
        sheet = screen.call("roster", {"session": token, "lesson_id": lesson})
        shown = {p["id"]: p["attendance"] for p in sheet["pupils"]}
        ahead = other.call("roster", {"session": token, "lesson_id": lesson, "follow": False})
        assert ahead["ok"] is True
        wanted = "zw" if shown[classmate] != "zw" else "sp"
        payload = {
            "states": {str(classmate): wanted},
            "base": {str(classmate): shown[classmate]},
            "topic": "Słyszane w sali",
            "base_topic": sheet["lesson"]["topic"],
        }
        ack = _submit(other, token, lesson, payload)
        assert ack["ok"] is True and ack["result"]["conflicts"] == []

        # The first roll of a lesson also marks the pupils with nothing recorded present, so
        # the room may hear more than these two: find the classmate's among them.
        def heard() -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
            events = screen.got("event")
            mine = [e for e in events if e["type"] == "attendance.recorded"]
            return (
                next((e for e in mine if e["pupil_id"] == classmate), None),
                next((e for e in events if e["type"] == "lesson.topic"), None),
            )

        deadline = time.monotonic() + 5
        while None in heard() and time.monotonic() < deadline:
            time.sleep(0.05)
        attendance, topic = heard()
        assert attendance is not None and topic is not None, screen.got("event")
        assert attendance["code"] == wanted and attendance["lesson_id"] == lesson
        assert topic["topic"] == "Słyszane w sali"
        assert other.got("event") == []  # read ahead: no room

        # The teacher locks the screen: the socket leaves the room, entries still go in.
        assert screen.call("teacher_logout", {"session": token})["ok"] is True
        before = len(screen.got("event"))
        back = {
            "states": {str(classmate): shown[classmate] or "ob"},
            "base": {str(classmate): wanted},
        }
        assert _submit(other, token, lesson, back)["ok"] is True
        time.sleep(2.5)  # the relay reads the journal at least once a second
        assert len(screen.got("event")) == before
    finally:
        screen.close()
        other.close()
