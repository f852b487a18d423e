"""The console's pages: what the director sees and saves, the refusals on the form with what
was typed, the clash shown before saving and refused on save, the import's dry run and commit."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ediary.audit.recording import Actor, Channel
from ediary.people.models import User
from ediary.schools.models import Subject
from ediary.timetable.grid import plan_on, set_cell
from tests.events import capture_events
from tests.factories import World
from tests.html import csrf_token, text
from tests.timetable.helpers import Plan, make_plan

Login = Callable[[User], FlaskClient]
FIXTURES = Path(__file__).parent / "fixtures"


def _post(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> TestResponse:
    """A form as the page sends it: with the session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


def _plan_path(world: World, rest: str = "") -> str:
    return f"/schools/{world.school.id}/plan{rest}"


def test_the_school_page_leads_to_the_console_and_the_class_grid(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    school_page = client.get(f"/schools/{world.school.id}").get_data(as_text=True)
    assert _plan_path(world) in school_page
    index = client.get(_plan_path(world)).get_data(as_text=True)
    grid_path = _plan_path(world, f"/grid/class-{world.class_a.id}")
    assert grid_path in index
    grid = client.get(grid_path).get_data(as_text=True)
    assert "mat · Nowak · 12" in text(grid)
    # Per teacher and per room too.
    assert "mat · 5a · 12" in text(
        client.get(_plan_path(world, f"/grid/teacher-{world.teacher.id}")).get_data(as_text=True)
    )
    assert "mat · 5a · Nowak" in text(
        client.get(_plan_path(world, f"/grid/room-{world.room.id}")).get_data(as_text=True)
    )


def test_the_secretary_sees_but_cannot_edit(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.secretary)
    page = client.get(_plan_path(world, "/bells")).get_data(as_text=True)
    assert "08:00" in page and "Zapisz dzwonki" not in page
    grid_path = _plan_path(world, f"/grid/class-{world.class_a.id}")
    grid = client.get(grid_path).get_data(as_text=True)
    assert "/cells/" not in grid
    assert _post(
        client, _plan_path(world, "/subjects"), data={"name": "x", "short_name": "x"}
    ).status_code in (400, 404)


def test_a_refused_bell_schedule_keeps_what_was_typed(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    sent = _post(
        client,
        _plan_path(world, "/bells"),
        data={
            "rows": "2",
            "number-0": "1",
            "start-0": "08:00",
            "end-0": "08:45",
            "number-1": "2",
            "start-1": "08:30",
            "end-1": "09:15",
        },
    )
    assert sent.status_code == 400
    page = sent.get_data(as_text=True)
    assert "Lekcja nr 2 zaczyna się, zanim skończy się lekcja nr 1." in text(page)
    assert 'value="08:30"' in page
    saved = _post(
        client,
        _plan_path(world, "/bells"),
        data={
            "rows": "2",
            "number-0": "1",
            "start-0": "08:00",
            "end-0": "08:45",
            "number-1": "2",
            "start-1": "08:55",
            "end-1": "09:40",
        },
    )
    assert saved.status_code == 302
    assert "09:40" in client.get(_plan_path(world, "/bells")).get_data(as_text=True)


def test_subjects_are_added_once_and_a_duplicate_is_refused_on_the_form(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    added = _post(
        client, _plan_path(world, "/subjects"), data={"name": "biologia", "short_name": "bio"}
    )
    assert added.status_code == 302
    twin = _post(
        client, _plan_path(world, "/subjects"), data={"name": "Biologia", "short_name": "b2"}
    )
    assert twin.status_code == 400
    assert "Przedmiot „biologia” już jest." in text(twin.get_data(as_text=True))
    assert 'value="b2"' in twin.get_data(as_text=True)
    assert len(session.scalars(select(Subject).where(Subject.name == "biologia")).all()) == 1


def test_a_cell_shows_the_clash_before_saving_and_refuses_it_on_save(
    world: World, session: Session, login_as: Login
) -> None:
    plan: Plan = make_plan(world)
    session.commit()
    client = login_as(world.school_admin)
    wednesday = world.today.weekday()
    cell = _plan_path(world, f"/classes/{world.class_b.id}/cells/{wednesday + 1}-1")
    # Physics for 5b in room 12 at the world's math lesson's time: the room is taken.
    check = client.get(f"{cell}?assignment={plan.physics_5b.id}&room={world.room.id}&check=1")
    assert check.status_code == 200
    assert "Sala 12 jest wtedy zajęta: matematyka, 5a" in text(check.get_data(as_text=True))
    # The same from the form's "Sprawdź konflikty" button: shown, nothing saved.
    checked = capture_events(
        lambda: _post(
            client,
            cell,
            data={"assignment": plan.physics_5b.id, "room": world.room.id, "check": "1"},
        )
    )
    assert checked.result.status_code == 200
    assert "Sala 12 jest wtedy zajęta" in text(checked.result.get_data(as_text=True))
    # While choosing, the busy room is marked in its list.
    assert "12 [zajęta]" in text(check.get_data(as_text=True))
    refused = capture_events(
        lambda: _post(client, cell, data={"assignment": plan.physics_5b.id, "room": world.room.id})
    )
    assert refused.result.status_code == 400
    assert "Sala 12 jest wtedy zajęta" in text(refused.result.get_data(as_text=True))
    # In room 14 it is free: saved, and the class's lessons from today made again.
    saved = capture_events(
        lambda: _post(
            client, cell, data={"assignment": plan.physics_5b.id, "room": plan.room_b.id}
        ),
        "timetable.changed",
    )
    assert saved.result.status_code == 302
    assert len(plan_on(world.school.id, world.today)) == 2


def test_an_import_dry_run_then_commit(world: World, session: Session, login_as: Login) -> None:
    session.commit()
    client = login_as(world.school_admin)
    data = (FIXTURES / "asc_plan.xml").read_bytes()
    shown = _post(
        client,
        _plan_path(world, "/import"),
        data={"file": (io.BytesIO(data), "plan.xml"), "from_date": world.today.isoformat()},
        content_type="multipart/form-data",
    )
    assert shown.status_code == 200
    page = text(shown.get_data(as_text=True))
    assert "nieznany nauczyciel „Marek Nowy”" in page and "Zatwierdź import" in page
    assert len(plan_on(world.school.id, world.today)) == 1  # nothing yet
    upload_id = shown.get_data(as_text=True).split('name="upload" value="')[1].split('"')[0]
    done = capture_events(
        lambda: _post(
            client,
            _plan_path(world, "/import/commit"),
            data={"upload": upload_id, "from_date": world.today.isoformat()},
        ),
        "timetable.changed",
        "timetable.changed",
    )
    assert done.result.status_code == 302
    assert len(plan_on(world.school.id, world.today)) == 9
    # Sent again (a double click): the same file changes nothing, publishes nothing.
    again = capture_events(
        lambda: _post(
            client,
            _plan_path(world, "/import/commit"),
            data={"upload": upload_id, "from_date": world.today.isoformat()},
        )
    )
    assert again.result.status_code == 302


def test_a_hostile_upload_is_refused_on_the_form(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    sent = _post(
        client,
        _plan_path(world, "/import"),
        data={
            "file": (io.BytesIO((FIXTURES / "xxe.xml").read_bytes()), "plan.xml"),
            "from_date": "2026-12-01",
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 400
    page = sent.get_data(as_text=True)
    assert "względów bezpieczeństwa" in text(page) and 'value="2026-12-01"' in page
    assert "root:" not in page


def test_a_plan_changed_since_the_dry_run_is_a_conflict_with_the_new_dry_run(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    data = (FIXTURES / "asc_plan.xml").read_bytes()
    shown = _post(
        client,
        _plan_path(world, "/import"),
        data={"file": (io.BytesIO(data), "plan.xml"), "from_date": world.today.isoformat()},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    upload_id = shown.split('name="upload" value="')[1].split('"')[0]
    seen = shown.split('name="seen" value="')[1].split('"')[0]
    # Meanwhile, another director adds physics for 5b on Monday, lesson 1.
    plan = make_plan(world)
    set_cell(
        Actor(world.school_admin, Channel.WEB),
        world.school,
        world.class_b,
        0,
        1,
        plan.physics_5b,
        plan.room_b,
        from_date=world.today,
    )
    session.commit()
    sent = capture_events(
        lambda: _post(
            client,
            _plan_path(world, "/import/commit"),
            data={"upload": upload_id, "from_date": world.today.isoformat(), "seen": seen},
        )
    )
    assert sent.result.status_code == 409
    page = text(sent.result.get_data(as_text=True))
    assert "Plan zmienił się od podglądu." in page
    assert "usunięte" in page and "pon. 1: fizyka, 5b" in page  # the new dry run shows it


def test_an_assignment_is_removed_from_its_page_unless_it_is_in_the_plan(
    world: World, session: Session, login_as: Login
) -> None:
    plan = make_plan(world)
    session.commit()
    client = login_as(world.school_admin)
    path = _plan_path(world, "/assignments")
    page = client.get(path).get_data(as_text=True)
    assert "Usuń przydział: fizyka, 5b" in page
    assert "Usuń przydział: matematyka, 5a" not in page  # placed: "w planie"
    gone = _post(client, path + "/remove", data={"id": plan.physics_5b.id})
    assert gone.status_code == 302
    kept = _post(client, path + "/remove", data={"id": plan.math_5a.id})
    assert kept.status_code == 400
    assert "jest lub był w planie lekcji" in text(kept.get_data(as_text=True))
    foreign = _post(client, path + "/remove", data={"id": "9223372036854775808"})
    assert foreign.status_code == 404


def test_a_grid_has_a_print_view_and_a_pdf(world: World, session: Session, login_as: Login) -> None:
    session.commit()
    client = login_as(world.secretary)
    grid = client.get(_plan_path(world, f"/grid/class-{world.class_a.id}")).get_data(as_text=True)
    printed = client.get(_plan_path(world, f"/grid/class-{world.class_a.id}/print"))
    assert printed.status_code == 200 and "/print" in grid
    assert "Plan lekcji: klasa 5a" in text(printed.get_data(as_text=True))
    assert "mat · Nowak · 12" in text(printed.get_data(as_text=True))
    pdf = client.get(_plan_path(world, f"/grid/class-{world.class_a.id}/pdf"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
