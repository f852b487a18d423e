"""Announcements: the director to the school, a form tutor to the class; shown on the parents'
start page until they expire; published once; edited or withdrawn by the author, with history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.messages.models import Announcement
from ediary.messages.operations import publish_announcement
from ediary.people.models import User
from tests.events import capture_events
from tests.factories import World
from tests.html import csrf_token

Login = Callable[[User], FlaskClient]


def _school_wide(world: World, expires_on: dt.date) -> Announcement:
    return publish_announcement(
        Actor(world.school_admin, Channel.WEB),
        school_id=world.school.id,
        class_id=None,
        title="Dzień otwarty",
        body="Zapraszamy <b>wszystkich</b>.",
        expires_on=expires_on,
        today=world.today,
    )


def test_a_school_announcement_is_published_once_to_every_class(
    world: World, session: object
) -> None:
    captured = capture_events(
        lambda: _school_wide(world, world.today + dt.timedelta(days=3)),
        "announcement.published",
        "announcement.published",
    )
    assert {e.audience_id for e in captured.events} == {world.class_a.id, world.class_b.id}


def test_the_parents_start_page_shows_it_until_it_expires(
    world: World, client: FlaskClient, login_as: Login, time_machine: Any
) -> None:
    _school_wide(world, world.today + dt.timedelta(days=2))
    login_as(world.parent)
    page = client.get(f"/portal/{world.pupil.id}").get_data(as_text=True)
    assert "Dzień otwarty" in page and "&lt;b&gt;wszystkich&lt;/b&gt;" in page
    assert "Dzień otwarty" in client.get(f"/portal/{world.sibling.id}").get_data(as_text=True)
    time_machine.shift(dt.timedelta(days=3))
    assert "Dzień otwarty" not in client.get(f"/portal/{world.pupil.id}").get_data(as_text=True)
    login_as(world.teacher)
    assert "Dzień otwarty" not in client.get("/").get_data(as_text=True)  # expired meanwhile


def test_a_tutors_announcement_reaches_only_the_class(
    world: World, client: FlaskClient, login_as: Login
) -> None:
    login_as(world.tutor)
    token = csrf_token(client, "/announcements")
    page = client.get("/announcements").get_data(as_text=True)
    assert "klasa 5a" in page and "cała szkoła" not in page
    response = client.post(
        "/announcements",
        data={
            "csrf_token": token,
            "audience": "1",
            "title": "Wycieczka 5a",
            "body": "W piątek.",
            "expires_on": (world.today + dt.timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 302
    login_as(world.parent)
    assert "Wycieczka 5a" in client.get(f"/portal/{world.pupil.id}").get_data(as_text=True)
    assert "Wycieczka 5a" not in client.get(f"/portal/{world.sibling.id}").get_data(as_text=True)
    login_as(world.other_parent)
    assert "Wycieczka 5a" not in client.get(f"/portal/{world.pupil_b.id}").get_data(as_text=True)


def test_a_past_expiry_is_refused_with_the_text_kept(
    world: World, client: FlaskClient, login_as: Login, session: Any
) -> None:
    session.commit()
    login_as(world.school_admin)
    token = csrf_token(client, "/announcements")
    response = client.post(
        "/announcements",
        data={
            "csrf_token": token,
            "audience": "1",
            "title": "Stary",
            "body": "Treść ogłoszenia",
            "expires_on": (world.today - dt.timedelta(days=1)).isoformat(),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Podaj datę ważności" in page
    assert 'value="Stary"' in page and "Treść ogłoszenia</textarea>" in page


def test_only_the_author_edits_or_withdraws(
    world: World, client: FlaskClient, login_as: Login, session: Any
) -> None:
    announcement = _school_wide(world, world.today + dt.timedelta(days=2))
    session.commit()
    path = f"/announcements/{announcement.id}"
    for name in (
        "anonymous",
        "parent",
        "other_parent",
        "teacher",
        "tutor",
        "other_teacher",
        "secretary",
        "other_secretary",
        "other_school_admin",
        "district_admin",
        "other_district_admin",
    ):
        if name == "anonymous":
            client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
            assert client.get(path).status_code == 302
            continue
        login_as(getattr(world, name))
        assert client.get(path).status_code == 404, name
        token = csrf_token(client, "/messages")
        assert (
            client.post(
                path, data={"csrf_token": token, "withdraw": "1", "version": "1"}
            ).status_code
            == 404
        ), name
    assert client.get(f"/announcements/{2**63}").status_code == 404
    login_as(world.school_admin)
    token = csrf_token(client, path)
    edited = client.post(
        path,
        data={
            "csrf_token": token,
            "version": "1",
            "title": "Dzień otwarty!",
            "body": "Zmiana godziny.",
            "expires_on": (world.today + dt.timedelta(days=2)).isoformat(),
        },
    )
    assert edited.status_code == 302
    stale = client.post(path, data={"csrf_token": token, "version": "1", "withdraw": "1"})
    assert stale.status_code == 409
    assert (
        client.post(path, data={"csrf_token": token, "version": "2", "withdraw": "1"}).status_code
        == 302
    )
    db.session.expire_all()
    history = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.entity == "announcements", HistoryEntry.entity_id == announcement.id
        )
    ).all()
    assert len(history) == 3  # published, edited, withdrawn
    login_as(world.parent)
    assert "Dzień otwarty" not in client.get(f"/portal/{world.pupil.id}").get_data(as_text=True)
