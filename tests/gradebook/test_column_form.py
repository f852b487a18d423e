"""A column as a plain form, for entering grades without JavaScript: the changed rows are
saved through the same operations (and events); a row changed meanwhile or refused is shown
again with its reason and what was typed, the others are saved."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ediary.gradebook.operations import cell_grades
from ediary.people.models import User
from tests.events import capture_events
from tests.factories import World
from tests.gradebook.helpers import column, type_in
from tests.html import hidden_fields, text

Login = Callable[[User], FlaskClient]


def _path(world: World, column_id: int) -> str:
    return f"/gradebook/{world.class_a.id}/{world.math.id}/column?column={column_id}"


def test_the_grid_links_each_column_to_its_form(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    test = column(world)
    html = login_as(world.teacher).get(f"/gradebook/{world.class_a.id}/{world.math.id}")
    assert f'href="{_path(world, test.id)}"' in html.get_data(as_text=True)
    for user in (world.tutor, world.other_teacher, world.school_admin):
        assert login_as(user).get(_path(world, test.id)).status_code == 404


def test_a_column_saved_without_javascript(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    test = column(world)
    client = login_as(world.teacher)
    path = _path(world, test.id)
    form = {
        **hidden_fields(client, path),
        f"text-{world.pupil.id}": "5",
        f"text-{world.classmate.id}": "",
    }
    captured = capture_events(lambda: client.post(path, data=form), "grade.added")
    assert captured.result.status_code == 302
    assert captured.events[0].audience_id == world.pupil.id
    assert [g.value for g in cell_grades(test, world.pupil.id)] == ["5"]
    assert cell_grades(test, world.classmate.id) == []
    shown = text(client.get(captured.result.headers["Location"]).get_data(as_text=True))
    assert "Zapisane oceny: 1." in shown


def test_a_stale_row_is_shown_again_and_the_rest_is_saved(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    test = column(world)
    seen = type_in(world, test, world.pupil, "3")
    session.commit()
    client = login_as(world.teacher)
    path = _path(world, test.id)
    hidden = hidden_fields(client, path)  # the page shows Zosia's 3
    type_in(world, test, world.pupil, "4", seen=seen)  # someone else, meanwhile
    session.commit()
    response = client.post(
        path,
        data={**hidden, f"text-{world.pupil.id}": "2", f"text-{world.classmate.id}": "5"},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Ktoś zmienił tę kratkę w międzyczasie: teraz „4”" in text(html)
    assert f'id="text-{world.pupil.id}" name="text-{world.pupil.id}" value="2"' in html
    assert [g.value for g in cell_grades(test, world.pupil.id)] == ["4"]
    assert [g.value for g in cell_grades(test, world.classmate.id)] == ["5"]


def test_a_typo_is_refused_in_polish_and_kept_on_the_form(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    test = column(world)
    session.commit()
    client = login_as(world.teacher)
    path = _path(world, test.id)
    response = client.post(
        path, data={**hidden_fields(client, path), f"text-{world.pupil.id}": "7"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nieprawidłowa ocena: dozwolone 1-6 z + lub -, albo np, bz, +, -." in text(html)
    assert f'name="text-{world.pupil.id}" value="7"' in html
    assert cell_grades(test, world.pupil.id) == []
