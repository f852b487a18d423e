"""What the console refuses: another school's objects and ids past the database's integer are
missing pages (404, never 500); a stale cell is a conflict shown on the form; an upload is the
uploader's own; a file over 50 MB is refused on the form."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ediary.audit.recording import Actor, Channel
from ediary.errors import Refusal
from ediary.people.models import User
from ediary.timetable.grid import set_cell
from ediary.timetable.imports import source
from tests.events import capture_events
from tests.factories import World, make_room
from tests.html import csrf_token, text
from tests.timetable.helpers import make_plan

Login = Callable[[User], FlaskClient]
HUGE = str(2**63)


def _post(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> TestResponse:
    return client.post(path, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


@pytest.mark.parametrize(
    "rest",
    [
        "/grid/class-{other_class}",
        f"/grid/class-{HUGE}",
        "/grid/teacher-{parent}",
        "/grid/room-{other_room}",
        "/grid/pupil-1",
        "/classes/{other_class}/cells/1-1",
        f"/classes/{HUGE}/cells/1-1",
        "/classes/{class_a}/cells/6-1",
        "/classes/{class_a}/cells/1-9",
        "/classes/{class_a}/cells/1-x",
        "/classes/{class_a}/cells/1-1?assignment={other_room}",
        f"/classes/{{class_a}}/cells/1-1?room={HUGE}",
    ],
)
def test_foreign_or_impossible_objects_are_missing_pages(
    world: World, session: Session, login_as: Login, rest: str
) -> None:
    other_room = make_room(world.other_school, "99")
    session.commit()
    path = f"/schools/{world.school.id}/plan" + rest.format(
        other_class=world.class_other_school.id,
        parent=world.parent.id,
        other_room=other_room.id,
        class_a=world.class_a.id,
    )
    assert login_as(world.school_admin).get(path).status_code == 404


def test_a_cell_changed_meanwhile_is_a_conflict_on_the_form(
    world: World, session: Session, login_as: Login
) -> None:
    plan = make_plan(world)
    session.commit()
    client = login_as(world.school_admin)
    path = f"/schools/{world.school.id}/plan/classes/{world.class_b.id}/cells/1-2"
    page = client.get(path).get_data(as_text=True)
    seen = page.split('name="seen" value="')[1].split('"')[0]
    # Meanwhile, someone else puts physics there.
    set_cell(
        Actor(world.school_admin, Channel.WEB),
        world.school,
        world.class_b,
        0,
        2,
        plan.physics_5b,
        plan.room_b,
        from_date=world.today,
    )
    session.commit()
    sent = capture_events(lambda: _post(client, path, {"assignment": "", "room": "", "seen": seen}))
    assert sent.result.status_code == 409
    assert "zmieniła się od wczytania strony" in text(sent.result.get_data(as_text=True))


def test_an_upload_is_committed_only_by_its_uploader(
    world: World, session: Session, login_as: Login
) -> None:
    from ediary.timetable.imports.commit import store_upload

    kept = store_upload(world.other_school_admin, world.other_school, "x.csv", b"pn;1;1a;;m;x;1")
    session.commit()
    client = login_as(world.school_admin)
    sent = _post(client, f"/schools/{world.school.id}/plan/import/commit", {"upload": kept.id})
    assert sent.status_code == 400
    assert "Nie ma już tego pliku" in text(sent.get_data(as_text=True))
    huge = _post(client, f"/schools/{world.school.id}/plan/import/commit", {"upload": HUGE})
    assert huge.status_code == 400


def test_a_file_over_the_limit_is_refused_on_the_form(
    world: World, session: Session, login_as: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source, "MAX_BYTES", 1000)  # the same check, without 50 MB in a test
    session.commit()
    client = login_as(world.school_admin)
    sent = _post(
        client,
        f"/schools/{world.school.id}/plan/import",
        {"file": (io.BytesIO(b"<timetable>" + b" " * 2000), "plan.xml"), "from_date": "2026-12-01"},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 400
    assert "Plik jest za duży (najwyżej 50 MB)." in text(sent.get_data(as_text=True))


def test_the_room_of_another_school_cannot_be_chosen(world: World, session: Session) -> None:
    """The operation's own check, below the page's loader."""
    plan = make_plan(world)
    other_room = make_room(world.other_school, "77")
    with pytest.raises(Refusal, match="room_missing"):
        set_cell(
            Actor(world.school_admin, Channel.WEB),
            world.school,
            world.class_b,
            0,
            2,
            plan.physics_5b,
            other_room,
            from_date=world.today,
        )


def test_an_import_for_a_past_date_is_refused_on_the_form(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    yesterday = (world.today - dt.timedelta(days=1)).isoformat()
    sent = _post(
        client,
        f"/schools/{world.school.id}/plan/import",
        {"file": (io.BytesIO(b"pn;1;5a;;m;Anna Nowak;12"), "plan.csv"), "from_date": yesterday},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 400
    page = sent.get_data(as_text=True)
    assert "Plan można zmienić od dziś lub od późniejszej daty." in text(page)
    assert f'value="{yesterday}"' in page
