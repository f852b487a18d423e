"""Connecting as a device: only an enrolled kiosk with its secret; a revoked one is cut off."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.kiosks import sockets
from ediary.kiosks.models import KioskTeacherSession
from ediary.kiosks.operations import revoke_kiosk
from tests.kiosk_server.conftest import NS, KioskWorld, call, check_push, counts, login, submit

SYSTEM = Actor.system(Channel.CLI)


@pytest.mark.parametrize(
    "auth",
    [
        None,
        {},
        {"kiosk_id": 1},
        {"kiosk_id": "1", "secret": "x"},
        {"kiosk_id": True, "secret": "x"},
        {"kiosk_id": 1, "secret": 7},
        {"kiosk_id": 1, "secret": "x" * 101},
        {"kiosk_id": 1, "secret": "x", "teacher": "anna_nowak"},
        "secret",
    ],
)
def test_a_connection_without_valid_credentials_is_refused(
    connect: Any, kworld: KioskWorld, auth: Any
) -> None:
    assert not connect(auth).is_connected(NS)


def test_a_wrong_secret_or_an_unknown_kiosk_is_refused(connect: Any, kworld: KioskWorld) -> None:
    assert not connect(
        {"kiosk_id": kworld.kiosk.id, "secret": kworld.secret[:-1] + "x"}
    ).is_connected(NS)
    assert not connect({"kiosk_id": kworld.kiosk.id + 1000, "secret": kworld.secret}).is_connected(
        NS
    )
    assert connect().is_connected(NS)


@pytest.mark.parametrize("event", ["roster", "submit"])
def test_a_revoked_kiosk_cannot_connect_and_its_open_socket_is_refused(
    connect: Any, kworld: KioskWorld, event: str
) -> None:
    client = connect()
    session = login(client, kworld.teacher)["session"]
    revoke_kiosk(SYSTEM, kworld.kiosk)
    db.session.commit()
    # (In a server process the relay disconnects it at once: test_real_server.py.) Whatever
    # happens to reach the handlers meanwhile is refused, and the socket is closed. An entry
    # reads the kiosk with the rest it checks (receipt.py), every other event before its handler.
    before = counts()
    if event == "submit":
        ack = submit(client, session, "topic", kworld.lesson.id, {"topic": "X", "base_topic": None})
    else:
        ack = call(client, "roster", {"session": session, "lesson_id": kworld.lesson.id})
    assert ack["ok"] is False and ack["error"] == "kiosk_revoked"
    assert ack["message"] == "Ten komputer został odłączony od dziennika."
    assert not client.is_connected(NS)
    received = [m["name"] for m in client.queue]  # get_received() needs a connection
    assert "revoked" in received
    for message in client.queue:
        check_push(message)
    assert counts() == before
    assert not connect().is_connected(NS)
    row = db.session.scalars(select(KioskTeacherSession)).one()
    assert row.ended_reason == "kiosk_revoked"


def test_an_unknown_event_gets_a_clear_refusal(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    ack = call(client, "drop_tables", {"all": True})
    assert ack == {"ok": False, "error": "unknown_event", "message": "Nieznane polecenie."}
    assert client.is_connected(NS)


@pytest.mark.calendar
def test_the_lock_screen_shows_the_room_and_its_lessons_today(
    connect: Any, kworld: KioskWorld
) -> None:
    ack = call(connect(), "room")
    assert ack["ok"] is True
    assert ack["room"] == {"id": kworld.room.id, "name": kworld.room.name}
    assert ack["today"] == kworld.today.isoformat()
    [lesson] = ack["lessons"]
    assert lesson["id"] == kworld.lesson.id and lesson["here"] is True
    assert lesson["teacher"] == kworld.teacher.full_name and lesson["class"] == "5a"


def test_a_failure_while_checking_the_device_refuses_the_connect_cleanly(
    connect: Any, kworld: KioskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> bool:
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(sockets, "verify_secret", broken)
    assert not connect().is_connected(NS)
    monkeypatch.undo()
    assert connect().is_connected(NS)
