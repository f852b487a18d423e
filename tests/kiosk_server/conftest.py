"""The kiosk server side in process: Flask-SocketIO's test client against the `app`/`session`
fixtures (each test one rolled-back transaction; a handler's commit becomes a savepoint).

The world is committed first (`kworld`), so a refused event's rollback undoes only its own work.
Real-server tests (test_real_server.py) build their own committed database.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db, utcnow
from ediary.diary.models import Attendance, Grade, Remark
from ediary.extensions import limiter, socketio
from ediary.journal.models import JournalEvent
from ediary.kiosks.access import load_enrollment_code
from ediary.kiosks.models import Kiosk, ProcessedSubmission
from ediary.kiosks.operations import enroll_kiosk, issue_enrollment_code
from ediary.kiosks.queries import end_of_day
from ediary.kiosks.schema import DEFS, SCHEMA
from ediary.people.models import User
from ediary.schools.models import Room
from ediary.timetable.models import Lesson
from tests import factories

NS = "/kiosk"
SYSTEM = Actor.system(Channel.CLI)


def warsaw_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()


@operation
def retime(actor: Actor, lesson: Lesson, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    lesson.starts_at, lesson.ends_at = starts_at, ends_at


def now_window(school: Any) -> tuple[dt.datetime, dt.datetime]:
    """A lesson running now, kept inside today's school-local date (tests at 23:55 too)."""
    now = utcnow()
    start = now - dt.timedelta(minutes=10)
    end = min(now + dt.timedelta(minutes=35), end_of_day(school, warsaw_today()))
    return start, max(end, now + dt.timedelta(seconds=30))


def enroll(kiosk: Kiosk) -> str:
    code = issue_enrollment_code(SYSTEM, kiosk)
    row = load_enrollment_code(code)
    _kiosk, secret = enroll_kiosk(Actor(None, Channel.KIOSK, kiosk.id), row, utcnow())
    return secret


@dataclass
class KioskWorld:
    world: factories.World
    secret: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)

    @property
    def auth(self) -> dict[str, Any]:
        return {"kiosk_id": self.world.kiosk.id, "secret": self.secret}


@pytest.fixture
def kworld(session: Any, school_hours: dt.datetime) -> KioskWorld:
    """The world with its kiosk enrolled, at 10:00 (the clock pinned): the lesson has begun."""
    limiter.reset()
    world = factories.make_world(warsaw_today())
    secret = enroll(world.kiosk)
    db.session.commit()
    return KioskWorld(world, secret)


@pytest.fixture
def connect(app: Flask, kworld: KioskWorld) -> Iterator[Callable[..., SocketIOTestClient]]:
    clients: list[SocketIOTestClient] = []

    def make(auth: Any = "default") -> SocketIOTestClient:
        client = socketio.test_client(
            app, namespace=NS, auth=kworld.auth if auth == "default" else auth
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        if client.is_connected(NS):
            client.disconnect(namespace=NS)


def call(client: SocketIOTestClient, event: str, *args: Any) -> Any:
    """The event's acknowledgement, which must be as the protocol's schema says: every test of
    the kiosk's server side checks kiosk/protocol.schema.json against what the server answers."""
    ack = client.emit(event, *args, namespace=NS, callback=True)
    ok = isinstance(ack, dict) and ack.get("ok") is True
    name = f"{event}.ack" if ok and f"{event}.ack" in DEFS else "refusal"
    errors = [error.message for error in _ack_validator(name).iter_errors(ack)]
    assert not errors, f"{event}: {errors[:3]} in {ack!r}"[:2000]
    return ack


def check_push(message: dict[str, Any]) -> None:
    """A message the server pushed (`{"name", "args", ...}` of the test client) is as the schema's
    `push.<name>` says."""
    (data,) = message["args"]
    errors = [
        error.message for error in _ack_validator(f"push.{message['name']}").iter_errors(data)
    ]
    assert not errors, f"{message['name']}: {errors[:3]} in {data!r}"


@functools.cache
def _ack_validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{name}"})


def login(client: SocketIOTestClient, user: User, pin: str | None = None, **extra: Any) -> Any:
    data: dict[str, Any] = {"login": user.login, "password": factories.PASSWORD, **extra}
    if pin is not None:
        data["pin"] = pin
    return call(client, "teacher_login", data)


def submit(
    client: SocketIOTestClient,
    session: str,
    kind: str,
    lesson_id: int,
    payload: dict[str, Any],
    key: str | None = None,
) -> Any:
    envelope = {
        "key": key or str(uuid.uuid4()),
        "session": session,
        "kind": kind,
        "lesson_id": lesson_id,
        "payload": payload,
    }
    return call(client, "submit", envelope)


def counts() -> dict[str, int]:
    """Rows of everything a submission may write: a refusal must leave all of them alone."""
    models = {
        "attendance": Attendance,
        "grades": Grade,
        "remarks": Remark,
        "history": HistoryEntry,
        "journal": JournalEvent,
        "processed": ProcessedSubmission,
    }
    return {
        name: int(db.session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in models.items()
    }


def make_room_lesson(kworld: KioskWorld, room: Room, teacher: User, slot: int) -> Lesson:
    return factories.make_lesson(
        kworld.school, kworld.class_a, kworld.math, teacher, room, kworld.today, slot
    )
