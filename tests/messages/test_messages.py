"""Messages as parents and staff use them: who may write to whom, threads, receipts, files,
refusals that keep the text, double submits, floods, and the right to disconnect."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from ediary.audit.recording import Actor, Channel
from ediary.contacts.models import ContactKind, ContactVerification
from ediary.db import db, utcnow
from ediary.messages.access import recipients_for
from ediary.messages.hours import next_working_start
from ediary.messages.models import Message, MessageReceipt, MessageThread
from ediary.messages.operations import (
    FLOOD_LIMIT,
    mark_read,
    reply,
    start_thread,
    write_to_class,
)
from ediary.notifications.models import NotificationPreference, OutgoingMessage
from ediary.people.models import User
from ediary.schools.operations import unlink_guardian
from tests.clock import warsaw
from tests.events import capture_events
from tests.factories import SYSTEM, World, _add
from tests.html import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
Login = Callable[[User], FlaskClient]


def _web(user: User) -> Actor:
    return Actor(user, Channel.WEB)


def _write(world: World, body: str = "Dzień dobry, pytanie o sprawdzian.") -> MessageThread:
    return start_thread(
        _web(world.parent),
        recipient_id=world.tutor.id,
        school_id=world.school.id,
        subject="Sprawdzian",
        body=body,
    )


def _post(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    values: MultiDict[str, object] = MultiDict([("csrf_token", csrf_token(client, "/messages"))])
    for key, value in data.items():
        if key == "files":
            for stream, filename in value:
                values.add(key, FileStorage(stream, filename=filename))
        else:
            values.add(key, str(value))
    # Encoded in memory: the test client's own encoder leaves a temporary file open for big bodies.
    boundary, body = encode_multipart(values)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_parent_writes_only_to_their_childs_staff(world: World, session: object) -> None:
    names = {r.user_id: r.why for r in recipients_for(world.parent)}
    # The 5a teacher and tutor (Maria's pupil), the 5b tutor (her sibling's), the office.
    assert {world.teacher.id, world.tutor.id, world.other_teacher.id} <= set(names)
    assert world.secretary.id in names and world.school_admin.id in names
    assert "wychowawca 5a" in names[world.tutor.id]
    assert "dyrektor" in names[world.school_admin.id]
    for outsider in (
        world.other_secretary,
        world.other_school_admin,
        world.other_parent,
        world.district_admin,
    ):
        assert outsider.id not in names
    # Another family's parent (5b only) does not reach the 5a mathematics teacher.
    assert world.teacher.id not in {r.user_id for r in recipients_for(world.other_parent)}


def test_a_message_to_a_stranger_is_a_missing_page(
    world: World, client: FlaskClient, login_as: Login
) -> None:
    login_as(world.parent)
    for stranger in (world.other_school_admin, world.other_parent, world.district_admin):
        response = _post(client, "/messages/new", {"recipient": stranger.id, "body": "Hej"})
        assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_thread_receipts_and_the_badge(world: World, session: object) -> None:
    captured = capture_events(lambda: _write(world), "message.received")
    event = captured.events[0]
    assert (event.audience, event.audience_id) == ("person", world.tutor.id)
    assert event.payload["unread"] == 1 and event.payload["sender"] == world.parent.full_name
    thread = captured.result
    participant = next(p for p in thread.participants if p.user_id == world.tutor.id)
    read = capture_events(lambda: mark_read(_web(world.tutor), participant), "message.read")
    assert read.events[0].audience_id == world.parent.id
    assert read.events[0].payload["reader"] == world.tutor.full_name
    # Opening it again writes nothing and tells nobody.
    assert capture_events(lambda: mark_read(_web(world.tutor), participant)).result == 0
    receipts = db.session.scalars(select(MessageReceipt)).all()
    assert [(r.user_id, r.message_id) for r in receipts] == [
        (world.tutor.id, thread.messages[0].id)
    ]
    answer = capture_events(
        lambda: reply(_web(world.tutor), thread, body="Sprawdzian w piątek."), "message.received"
    )
    assert answer.events[0].audience_id == world.parent.id


def test_the_sender_sees_przeczytano_after_the_recipient_opened_it(
    world: World, client: FlaskClient, login_as: Login
) -> None:
    login_as(world.parent)
    response = _post(
        client,
        "/messages/new",
        {
            "recipient": world.tutor.id,
            "subject": "Wycieczka",
            "body": "Czy <script>alert(1)</script> jedziemy?",
        },
    )
    assert response.status_code == 302
    thread = db.session.scalars(select(MessageThread)).one()
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert "nieprzeczytana" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    login_as(world.tutor)
    inbox = client.get("/messages").get_data(as_text=True)
    assert "Wycieczka" in inbox and 'class="unread"' in inbox
    assert 'data-unread="1"' in inbox
    client.get(f"/messages/{thread.id}")
    assert 'data-unread="0"' in client.get("/messages").get_data(as_text=True)
    login_as(world.parent)
    assert "przeczytano: Jan Kowalski" in client.get(f"/messages/{thread.id}").get_data(
        as_text=True
    )


def test_a_thread_and_its_files_reach_only_its_participants(
    world: World, client: FlaskClient, login_as: Login
) -> None:
    login_as(world.parent)
    response = _post(
        client,
        "/messages/new",
        {
            "recipient": world.tutor.id,
            "body": "Zdjęcie",
            "files": [(io.BytesIO(PNG), "kartka.png")],
        },
    )
    assert response.status_code == 302
    thread = db.session.scalars(select(MessageThread)).one()
    attachment = thread.messages[0].attachments[0]
    assert (attachment.mime, attachment.name) == ("image/png", "kartka.png")
    for name in ("parent", "tutor"):
        login_as(getattr(world, name))
        assert client.get(f"/messages/{thread.id}").status_code == 200
        got = client.get(f"/messages/files/{attachment.id}")
        assert got.status_code == 200 and got.data == PNG
        assert got.headers["Content-Disposition"].startswith("attachment;")
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    for name in (
        "other_parent",
        "teacher",
        "other_teacher",
        "secretary",
        "school_admin",
        "other_secretary",
        "other_school_admin",
        "district_admin",
        "other_district_admin",
    ):
        login_as(getattr(world, name))
        assert client.get(f"/messages/{thread.id}").status_code == 404, name
        assert client.get(f"/messages/files/{attachment.id}").status_code == 404, name
        token = csrf_token(client, "/messages")
        answer = client.post(f"/messages/{thread.id}", data={"csrf_token": token, "body": "x"})
        assert answer.status_code == 404, name
    client.get("/logout")
    for huge in (2**63, 2**64):
        assert client.get(f"/messages/{huge}").status_code == 404
        assert client.get(f"/messages/files/{huge}").status_code == 404


@pytest.mark.parametrize(
    ("files", "body", "words"),
    [
        ([(b"<html><script>alert(1)</script></html>", "strona.html")], "Treść", "niedozwolony"),
        ([(b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), "duze.jpg")], "Treść", "za duży"),
        ([], "x" * 5001, "za długa"),
        ([], "   ", "Wpisz treść"),
    ],
)
def test_bad_input_is_refused_with_the_text_kept(
    world: World,
    client: FlaskClient,
    login_as: Login,
    files: list[tuple[bytes, str]],
    body: str,
    words: str,
) -> None:
    login_as(world.parent)
    sent = {
        "recipient": world.tutor.id,
        "subject": "Mój temat",
        "body": body,
        "files": [(io.BytesIO(data), name) for data, name in files],
    }
    response = _post(client, "/messages/new", sent)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert words in page and 'value="Mój temat"' in page
    if body.strip():
        assert body[:50] in page
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_double_submit_sends_one_message(
    world: World, client: FlaskClient, login_as: Login
) -> None:
    login_as(world.parent)
    page = client.get("/messages/new").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([0-9a-f]{32})"', page)
    assert token is not None
    data = {
        "csrf_token": csrf_token(client, "/messages"),
        "form_token": token.group(1),
        "recipient": world.tutor.id,
        "body": "Raz",
    }
    assert client.post("/messages/new", data=data).status_code == 302
    assert client.post("/messages/new", data=data).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_flood_is_refused_in_polish_with_the_text_kept(
    world: World, client: FlaskClient, login_as: Login
) -> None:
    for n in range(FLOOD_LIMIT):
        _write(world, f"Wiadomość {n}")
        db.session.flush()
        time.sleep(0.001)  # each its own sending (sent_at differs)
    login_as(world.parent)
    response = _post(
        client, "/messages/new", {"recipient": world.tutor.id, "body": "Jeszcze jedna"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "zbyt wiele wiadomości" in page and "Jeszcze jedna" in page


def test_a_parent_whose_child_left_reads_the_thread_but_writes_no_more(
    world: World, client: FlaskClient, login_as: Login, session: Any
) -> None:
    thread = start_thread(
        _web(world.other_parent),
        recipient_id=world.other_teacher.id,
        school_id=world.school.id,
        subject="Wycieczka",
        body="Dzień dobry",
    )
    unlink_guardian(_web(world.secretary), world.other_parent, world.pupil_b)
    session.commit()
    login_as(world.other_parent)
    assert client.get(f"/messages/{thread.id}").status_code == 200
    token = csrf_token(client, "/messages")
    refused = client.post(f"/messages/{thread.id}", data={"csrf_token": token, "body": "Jeszcze"})
    assert refused.status_code == 400
    assert "nie możesz już pisać" in refused.get_data(as_text=True)
    assert len(thread.messages) == 1


def test_sending_is_rate_limited_per_person_with_a_polish_page(
    world: World, client: FlaskClient, login_as: Login, session: Any
) -> None:
    session.commit()  # the refusals below roll back to here, not past the world
    login_as(world.parent)
    token = csrf_token(client, "/messages")
    empty = {"csrf_token": token, "recipient": str(world.tutor.id), "body": ""}
    for _ in range(30):  # refused sendings count too: the limit is on trying
        assert client.post("/messages/new", data=empty).status_code == 400
    throttled = client.post("/messages/new", data=empty)
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    assert "Spróbuj ponownie" in throttled.get_data(as_text=True)
    # Another person is not held back by Maria's sendings.
    login_as(world.tutor)
    token = csrf_token(client, "/messages")
    answer = client.post(
        "/messages/new", data={**empty, "csrf_token": token, "recipient": str(world.parent.id)}
    )
    assert answer.status_code == 400


def test_a_teacher_writes_to_every_family_of_the_class_privately(
    world: World, session: object
) -> None:
    captured = capture_events(
        lambda: write_to_class(
            _web(world.tutor), world.class_a, subject="Zebranie", body="Zapraszam w czwartek."
        ),
        "message.received",
    )
    threads = captured.result
    guardians = {p.user_id for t in threads for p in t.participants} - {world.tutor.id}
    assert world.parent.id in guardians and world.other_parent.id not in guardians
    assert all(len(t.participants) == 2 for t in threads)  # nobody sees another family
    assert {e.audience_id for e in captured.events} == guardians


def _notified(world: World, user: User) -> None:
    _add(
        SYSTEM,
        NotificationPreference(user_id=user.id, email=True, message=True),
        ContactVerification(
            user_id=user.id,
            kind=ContactKind.EMAIL,
            address=f"{user.login}@szkola.example",
            verified_at=utcnow(),
        ),
    )
    db.session.flush()


def test_right_to_disconnect_holds_the_teachers_email_until_the_working_day(
    world: World, session: object, time_machine: Any
) -> None:
    _notified(world, world.tutor)
    _notified(world, world.parent)
    # Friday 20:15: the message arrives now; its e-mail waits until Monday 7:30.
    time_machine.move_to(warsaw(2026, 11, 20, 20, 15).astimezone(dt.UTC), tick=False)
    thread = _write(world)
    db.session.commit()  # messages are queued with their event, at the commit
    assert len(thread.messages) == 1
    mail = db.session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.user_id == world.tutor.id)
    ).one()
    assert mail.topic == "message"
    assert mail.next_attempt_at == warsaw(2026, 11, 23, 7, 30).astimezone(dt.UTC)
    # The teacher's answer to the parent is not held: parents have no working hours.
    reply(_web(world.tutor), thread, body="Odpowiem w poniedziałek.")
    db.session.commit()
    to_parent = db.session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.user_id == world.parent.id)
    ).one()
    assert to_parent.next_attempt_at == utcnow()


def test_within_working_hours_the_email_goes_at_once(world: World, session: object) -> None:
    _notified(world, world.tutor)
    _write(world)  # the pinned clock: a Wednesday, 10:30
    db.session.commit()
    mail = db.session.scalars(select(OutgoingMessage)).one()
    assert mail.next_attempt_at <= utcnow()


def test_next_working_start() -> None:
    days = {0, 1, 2, 3, 4}
    start, end = dt.time(7, 30), dt.time(16)
    assert next_working_start(warsaw(2026, 11, 18, 10, 0), days, start, end) is None
    assert next_working_start(warsaw(2026, 11, 18, 6, 0), days, start, end) == warsaw(
        2026, 11, 18, 7, 30
    ).astimezone(dt.UTC)
    assert next_working_start(warsaw(2026, 11, 21, 12, 0), days, start, end) == warsaw(
        2026, 11, 23, 7, 30
    ).astimezone(dt.UTC)


def test_working_hours_are_the_teachers_own(
    world: World, client: FlaskClient, login_as: Login, session: Any
) -> None:
    session.commit()  # the refusal below rolls back to here, not past the world
    login_as(world.teacher)
    token = csrf_token(client, "/messages/hours")
    refused = client.post(
        "/messages/hours",
        data={"csrf_token": token, "starts": "16:00", "ends": "08:00", "day-0": "1"},
    )
    assert refused.status_code == 400 and "Koniec pracy" in refused.get_data(as_text=True)
    saved = client.post(
        "/messages/hours",
        data={"csrf_token": token, "starts": "08:00", "ends": "14:00", "day-1": "1"},
    )
    assert saved.status_code == 302
    page = client.get("/messages/hours").get_data(as_text=True)
    assert 'value="08:00"' in page and 'name="day-1" value="1" checked' in page


def test_the_inbox_is_linked_from_every_start_page(
    world: World, client: FlaskClient, login_as: Login
) -> None:
    for name in ("teacher", "tutor", "secretary", "school_admin"):
        login_as(getattr(world, name))
        assert 'href="/messages"' in client.get("/").get_data(as_text=True), name
    login_as(world.parent)
    assert 'href="/messages"' in client.get(f"/portal/{world.pupil.id}").get_data(as_text=True)
