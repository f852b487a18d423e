"""Enrollment over HTTP: a one-time code for a room's kiosk becomes the device secret, once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db, utcnow
from ediary.extensions import limiter, socketio
from ediary.kiosks.auth import digest
from ediary.kiosks.models import EnrollmentCode, Kiosk
from ediary.kiosks.operations import issue_enrollment_code, revoke_kiosk
from tests import factories
from tests.kiosk_server.conftest import NS, check_push

SYSTEM = Actor.system(Channel.CLI)
ENROLL = "/api/kiosk/enroll"


@pytest.fixture
def fresh(world: factories.World, client: FlaskClient) -> factories.World:
    limiter.reset()
    db.session.commit()
    return world


def _code(kiosk: Kiosk) -> str:
    code = issue_enrollment_code(SYSTEM, kiosk)
    db.session.commit()
    return code


@operation
def _expire(actor: Actor, kiosk: Kiosk) -> None:
    for row in db.session.scalars(
        select(EnrollmentCode).where(EnrollmentCode.kiosk_id == kiosk.id)
    ):
        row.expires_at = utcnow() - dt.timedelta(seconds=1)


def _enroll(client: FlaskClient, code: Any) -> Any:
    return client.post(ENROLL, json={"code": code})


def test_a_code_gives_the_secret_once_and_only_its_hash_is_kept(
    fresh: factories.World, client: FlaskClient
) -> None:
    code = _code(fresh.kiosk)
    response = _enroll(client, code)
    assert response.status_code == 200
    body = response.get_json()
    assert body["kiosk_id"] == fresh.kiosk.id
    assert body["room"] == {"id": fresh.room.id, "name": fresh.room.name}
    assert body["school"]["id"] == fresh.school.id
    assert body["namespace"] == NS
    secret = body["secret"]
    assert len(secret) >= 43  # 32 random bytes
    assert response.headers["Cache-Control"] == "no-store"

    kiosk = db.session.get_one(Kiosk, fresh.kiosk.id, populate_existing=True)
    assert kiosk is not None and kiosk.enrolled
    assert kiosk.secret_hash == "sha256$" + digest(secret)
    assert secret not in kiosk.secret_hash
    # The history of the change names the channel and never shows the hash.
    change = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "kiosks", HistoryEntry.entity_id == kiosk.id)
        .order_by(HistoryEntry.id.desc())
    ).first()
    assert change is not None and change.new is not None and change.channel == "kiosk"
    assert change.new["secret_hash"] == "***"

    again = _enroll(client, code)
    assert again.status_code == 400
    assert again.get_json()["error"] == "code_invalid"
    stored = db.session.get_one(Kiosk, kiosk.id, populate_existing=True)
    assert stored.secret_hash == kiosk.secret_hash


def test_an_expired_code_is_refused_and_enrolls_nothing(
    fresh: factories.World, client: FlaskClient
) -> None:
    code = _code(fresh.kiosk)
    _expire(SYSTEM, fresh.kiosk)
    db.session.commit()
    response = _enroll(client, code)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "code_invalid" and body["message"].startswith("Kod jest")
    assert db.session.get_one(Kiosk, fresh.kiosk.id, populate_existing=True).secret_hash is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "ABCDE-FGHJK"}, "code_invalid"),  # well formed, never issued
        ({"code": ""}, "invalid"),
        ({"code": 12345}, "invalid"),
        ({"code": "A" * 33}, "invalid"),
        ({"code": "ABCDE-FGHJK", "kiosk_id": 1}, "invalid"),
        ({}, "invalid"),
        (["ABCDE-FGHJK"], "invalid"),
    ],
)
def test_wrong_or_malformed_codes_are_refused(
    fresh: factories.World, client: FlaskClient, body: Any, code: str
) -> None:
    _code(fresh.kiosk)
    response = client.post(ENROLL, json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == code
    assert db.session.get_one(Kiosk, fresh.kiosk.id, populate_existing=True).secret_hash is None


def test_a_body_that_is_not_json_is_refused(fresh: factories.World, client: FlaskClient) -> None:
    response = client.post(ENROLL, data="code=ABCDE", content_type="text/plain")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid"


@pytest.mark.parametrize(
    "body",
    [
        "[" * 50_000 + "]" * 50_000,  # deeper than Python's recursion limit
        '{"code": ' * 50_000 + '"ABCDE-FGHJK"' + "}" * 50_000,
        '{"code": ' + "9" * 5000 + "}",  # past int()'s digit limit
        b'{"code": "\xff\xfe"}',  # not UTF-8
    ],
    ids=["nested-arrays", "nested-objects", "5000-digits", "not-utf8"],
)
def test_malformed_json_is_refused_plainly(
    fresh: factories.World, client: FlaskClient, body: str | bytes
) -> None:
    response = client.post(ENROLL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid"
    assert response.get_json()["message"]


def test_guessing_is_rate_limited(fresh: factories.World, client: FlaskClient) -> None:
    statuses = [_enroll(client, f"WRONG-{n:05d}").status_code for n in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    limited = _enroll(client, _code(fresh.kiosk))  # even a right code waits
    assert limited.status_code == 429
    assert limited.get_json()["error"] == "throttled"


def test_enrolling_again_replaces_the_secret_and_cuts_the_old_connection(
    app: Any, fresh: factories.World, client: FlaskClient
) -> None:
    first = _enroll(client, _code(fresh.kiosk)).get_json()["secret"]
    old = socketio.test_client(
        app, namespace=NS, auth={"kiosk_id": fresh.kiosk.id, "secret": first}
    )
    assert old.is_connected(NS)

    second = _enroll(client, _code(fresh.kiosk)).get_json()["secret"]
    assert second != first
    # Every server process's relay cuts it after the commit (test_revocation.py, on a real
    # server; no relay runs in process). Meanwhile each event re-reads the device: refused.
    ack = old.emit("room", {}, namespace=NS, callback=True)
    assert ack["ok"] is False and ack["error"] == "kiosk_revoked"
    assert not old.is_connected(NS)
    told = [message for message in old.queue if message["name"] == "revoked"]
    assert len(told) == 1  # told why first, as a revocation (the agent keeps its entries)
    check_push(told[0])
    refused = socketio.test_client(
        app, namespace=NS, auth={"kiosk_id": fresh.kiosk.id, "secret": first}
    )
    assert not refused.is_connected(NS)
    fresh_client = socketio.test_client(
        app, namespace=NS, auth={"kiosk_id": fresh.kiosk.id, "secret": second}
    )
    assert fresh_client.is_connected(NS)
    fresh_client.disconnect(namespace=NS)


def test_a_revoked_kiosk_enrolls_again_with_a_new_code(
    app: Any, fresh: factories.World, client: FlaskClient
) -> None:
    _enroll(client, _code(fresh.kiosk))
    revoke_kiosk(SYSTEM, fresh.kiosk)
    db.session.commit()
    secret = _enroll(client, _code(fresh.kiosk)).get_json()["secret"]
    kiosk = db.session.get_one(Kiosk, fresh.kiosk.id, populate_existing=True)
    assert kiosk is not None and kiosk.revoked_at is None and kiosk.enrolled
    again = socketio.test_client(app, namespace=NS, auth={"kiosk_id": kiosk.id, "secret": secret})
    assert again.is_connected(NS)
    again.disconnect(namespace=NS)
