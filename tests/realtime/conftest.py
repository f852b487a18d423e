"""Helpers for the realtime tests: a private redis-server, a seeded database, parents' sockets.

The end-to-end tests run real gunicorn+gevent servers (the harness, tests/servers/) against a
database seeded here and committed; parents log in over HTTP and connect with python-socketio's
client. Redis is the harness's private redis-server, so a test may stop and restart it.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import socketio
from flask import Flask
from sqlalchemy import select

from ediary.db import Base, db, make_engine
from ediary.journal.models import JournalEvent
from tests import factories, twofactor
from tests.servers import RedisServer, start_or_skip


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_or_skip(RedisServer(tmp_path_factory.mktemp("redis")))
    yield server
    server.stop()


@contextmanager
def bound_to(database_url: str, redis_url: str | None = None, **config: Any) -> Iterator[Flask]:
    """Points the process's `db` at another database for a while (and back afterwards).

    A bare Flask app gives operations the configuration they read (`config` over cheap password
    hashing); with `redis_url` a commit here rings the servers through Redis, as a CLI command
    or a batch job would.
    """
    saved = db.engine
    engine = make_engine(database_url)
    db.bind(engine)
    app = Flask("writer")
    app.config.update(
        {
            "REDIS_URL": redis_url,
            "DEMO_MODE": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 8,
            "ARGON2_PARALLELISM": 1,
            **config,
        }
    )
    try:
        with app.app_context():
            yield app
    finally:
        db.session.remove()
        engine.dispose()
        if saved is not None:
            db.bind(saved)
        else:
            db.engine = None
            db.session.configure(bind=None)


def school_today() -> dt.date:
    """The date the factories build the school year around (a grade needs a term)."""
    return dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()


@dataclass
class Seeded:
    """A committed test world: ids and logins only (objects belong to a closed session)."""

    url: str
    ids: dict[str, int]
    logins: dict[str, str]


def seed(database_url: str) -> Seeded:
    import ediary.models  # noqa: F401 - every table, as create_app knows them

    with bound_to(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = factories.make_world()
        factories.begun(world.lesson)  # the servers take entries for a lesson begun only
        db.session.commit()
        ids = {
            name: getattr(world, name).id
            for name in (
                "pupil",
                "sibling",
                "classmate",
                "pupil_b",
                "pupil_other_school",
                "class_a",
                "class_b",
                "class_other_school",
                "lesson",
                "kiosk",
                "school",
                "other_school",
                "math",
            )
        }
        people = (
            "teacher",
            "tutor",
            "other_teacher",
            "parent",
            "other_parent",
            "secretary",
            "school_admin",
            "other_secretary",
            "other_school_admin",
            "district_admin",
        )
        logins = {name: getattr(world, name).login for name in people}
        ids.update({name: getattr(world, name).id for name in people})
    return Seeded(database_url, ids, logins)


@pytest.fixture(scope="module")
def seeded(backend: str, fresh_database_url: Callable[[str], str]) -> Seeded:
    return seed(fresh_database_url(backend))


def journal_ids(database_url: str, after: int = 0) -> list[JournalEvent]:
    with bound_to(database_url):
        rows = db.session.scalars(
            select(JournalEvent).where(JournalEvent.id > after).order_by(JournalEvent.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(base_url: str, user_login: str) -> requests.Session:
    """Logs in through the real login form (the server's rate limit allows 20 an hour).

    The session opens a new connection for every request. A kept-alive connection that sat idle
    for gunicorn's `keepalive` (2 s) is closed by the server, and a request sent on it in the
    same instant fails with "Connection aborted." (RemoteDisconnected or a reset): requests
    retries no POST, and a busy worker (a browser's socket, the relay) widens that instant to
    milliseconds. test_live_js's rolls, a second or two apart, hit it once.
    """
    http = requests.Session()
    http.headers["Connection"] = "close"
    page = http.get(f"{base_url}/login", timeout=10)
    response = http.post(
        f"{base_url}/login",
        data={
            "login": user_login,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, f"login of {user_login} failed: {response.status_code}"
    second = response.headers["Location"]
    if second in ("/login/enrol", "/login/code"):  # staff: a code from the app (tests/twofactor)
        step = http.get(f"{base_url}{second}", timeout=10).text
        code = (
            twofactor.enrol_code(base_url, user_login, step)
            if second == "/login/enrol"
            else twofactor.next_code(base_url, user_login)
        )
        done = http.post(
            f"{base_url}{second}",
            data={"code": code, "csrf_token": csrf_token(step)},
            allow_redirects=False,
            timeout=10,
        )
        assert done.status_code in (200, 302), f"second factor of {user_login}: {done.status_code}"
    return http


def cookie_header(http: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def _handle_messages_in_wire_order(sio: socketio.Client) -> None:
    """python-engineio's client runs each incoming message's handler in a new thread, so under
    load two events could be noted in the other order than they came over the wire (a browser
    handles them in order). The tests check the server's order, so messages are handled on the
    reading thread, one after another. Our handlers only note what came; none blocks."""
    trigger = sio.eio._trigger_event

    def in_order(event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return trigger(event, *args, **kwargs)

    sio.eio._trigger_event = in_order


@dataclass
class LiveClient:
    """A parent's (or staff member's) `/live` socket, as live.js uses it."""

    base_url: str
    cookie: str
    events: list[dict[str, Any]] = field(default_factory=list)
    reloads: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[Any] = field(default_factory=list)
    disconnects: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        _handle_messages_in_wire_order(self.sio)
        self.sio.on("event", self._on_event, namespace="/live")
        self.sio.on("reload", self._on_reload, namespace="/live")
        self.sio.on("connect_error", self._on_refusal, namespace="/live")
        self.sio.on("disconnect", self._on_disconnect, namespace="/live")

    def _note(self, bucket: list[Any], item: Any) -> None:
        with self.changed:
            bucket.append(item)
            self.changed.notify_all()

    def _on_event(self, message: dict[str, Any]) -> None:
        self._note(self.events, message)

    def _on_reload(self, message: dict[str, Any]) -> None:
        self._note(self.reloads, message)

    def _on_refusal(self, data: Any = None) -> None:
        self._note(self.refusals, data)

    def _on_disconnect(self, reason: Any = None) -> None:
        self._note(self.disconnects, reason)

    def connect(self, **options: Any) -> LiveClient:
        self.sio.connect(
            self.base_url,
            headers={"Cookie": self.cookie},
            transports=["websocket"],
            namespaces=["/live"],
            wait_timeout=10,
            **options,
        )
        return self

    def resume(self, last_id: int | None) -> dict[str, Any]:
        return self.sio.call("resume", {"last_id": last_id}, namespace="/live", timeout=15)

    def call(self, event: str, data: Any = None) -> Any:
        return self.sio.call(event, data, namespace="/live", timeout=15)

    @property
    def last_id(self) -> int:
        return max((e["id"] for e in self.events), default=0)

    def wait(self, predicate: Callable[[LiveClient], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)
        return True

    def wait_events(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        self.wait(lambda c: len(c.events) >= count, timeout)
        return list(self.events)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def live_client(base_url: str, http: requests.Session) -> LiveClient:
    return LiveClient(base_url, cookie_header(http))


class WebTeacher:
    """A teacher recording rolls through the real lesson form: the server commits and delivers."""

    def __init__(self, base_url: str, http: requests.Session, lesson_id: int) -> None:
        self.base_url, self.http, self.lesson_id = base_url, http, lesson_id
        page = http.get(f"{base_url}/lessons/{lesson_id}", timeout=10)
        assert page.status_code == 200, page.status_code
        self.token = csrf_token(page.text)
        entered = re.search(r'<textarea[^>]*name="topic"[^>]*>(.*?)</textarea>', page.text, re.S)
        self.topic = html.unescape(entered.group(1)).strip() if entered else ""

    def roll(self, states: dict[int, str], topic: str | None = None) -> None:
        """As a teacher does: opens the page, changes these selects (and the topic), saves. The
        page carries what it showed (the roll's bases), so each roll changes only these."""
        page = self.http.get(f"{self.base_url}/lessons/{self.lesson_id}", timeout=10).text
        shown = dict(re.findall(r'<input type="hidden" name="(base-\d+)" value="([^"]*)"', page))
        base_topic = re.search(r'name="base_topic" type="hidden" value="([^"]*)"', page)
        if topic is not None:
            self.topic = topic  # once entered, a topic is always sent back (clearing it is refused)
        data = {"csrf_token": self.token, "topic": self.topic, **shown}
        if base_topic is not None:
            data["base_topic"] = html.unescape(base_topic.group(1))
        data.update({f"state-{pupil_id}": code for pupil_id, code in states.items()})
        response = self.http.post(
            f"{self.base_url}/lessons/{self.lesson_id}",
            data=data,
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.status_code
