"""The gradebook's pages: the grid of the teacher's own assignment (404 for anyone else, the
12 actors of the matrix on a real column), a cell saved by the page's request, its conflict and
refusals, a column added; the start page's lessons without a topic; the lesson list."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel
from ediary.diary.models import Attendance
from ediary.diary.operations import submit_roll
from ediary.gradebook.models import Assessment
from ediary.gradebook.operations import cell_grades
from ediary.people.models import User
from ediary.timetable.operations import substitute
from tests.events import capture_events
from tests.factories import World, make_lesson
from tests.gradebook.helpers import assignment_of, column, post_cell, type_in
from tests.html import csrf_token, hidden_fields, text
from tests.test_access_matrix import ACTORS

Login = Callable[[User], FlaskClient]


def _grid(world: World) -> str:
    return f"/gradebook/{world.class_a.id}/{world.math.id}"


def test_the_grid_shows_columns_grades_and_the_explained_average(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    test = column(world)
    type_in(world, test, world.pupil, "4+")
    type_in(world, test, world.classmate, "np")
    page = login_as(world.teacher).get(_grid(world))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-a="{test.id}"' in html
    assert "sprawdzian: ułamki" in html
    assert 'value="4+"' in html and 'value="np"' in html
    weight = world.test_category.weight
    assert f'title="(4,5×{weight}) / {weight} = 4,50"' in html
    assert "Wiśniewska Zosia" in text(html)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_teacher_of_the_assignment_saves_a_cell(
    world: World,
    session: Session,
    client: FlaskClient,
    login_as: Login,
    actor: str,
    school_hours: object,
) -> None:
    """The cell route with a real column (the matrix's world has none): the teacher saves,
    everyone else, the form tutor of 5a included, finds no such page."""
    test = column(world)
    if actor != "anonymous":
        login_as(getattr(world, actor))
    csrf = csrf_token(client, "/login")
    response = client.post(
        f"{_grid(world)}/cells",
        data={"csrf_token": csrf, "assessment": test.id, "pupil": world.pupil.id, "text": "5"},
    )
    expected = {"anonymous": 302, "teacher": 200}.get(actor, 404)
    assert response.status_code == expected
    recorded = [g.value for g in cell_grades(test, world.pupil.id)]
    assert recorded == (["5"] if actor == "teacher" else [])


def test_a_cell_saved_by_the_page_answers_the_row_and_publishes(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    test = column(world)
    client = login_as(world.teacher)
    assignment = assignment_of(world)
    captured = capture_events(
        lambda: post_cell(client, assignment, test, world.pupil, "5-"), "grade.added"
    )
    status, body = captured.result
    assert status == 200 and body["ok"] and body["value"] == "5-"
    assert body["average"] == "4,75" and body["explanation"].endswith("= 4,75")
    assert captured.events[0].audience_id == world.pupil.id
    # A correction from the page, with the version it showed.
    status, body = post_cell(
        client, assignment, test, world.pupil, "5", str(body["grade"]), str(body["version"])
    )
    assert status == 200 and body["value"] == "5"


def test_a_stale_cell_answers_409_with_the_servers_value(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    test = column(world)
    seen = type_in(world, test, world.pupil, "3")
    assert seen is not None
    old_version = str(seen.version)
    type_in(world, test, world.pupil, "4", seen=seen)  # someone else, meanwhile
    session.commit()  # a refusal rolls the request back: the setting stays
    client = login_as(world.teacher)
    status, body = post_cell(
        client, assignment_of(world), test, world.pupil, "2", str(seen.id), old_version
    )
    assert status == 409 and body["error"] == "stale_cell"
    assert body["value"] == "4" and "Nic nie nadpisano" in body["message"]
    assert seen.value == "4"


@pytest.mark.parametrize(("typed", "code"), [("7", "grade_invalid"), ("x" * 300, "grade_invalid")])
def test_a_refused_cell_says_why_in_polish(
    world: World, session: Session, login_as: Login, typed: str, code: str, school_hours: object
) -> None:
    test = column(world)
    session.commit()  # a refusal rolls the request back: the setting stays
    client = login_as(world.teacher)
    status, body = post_cell(client, assignment_of(world), test, world.pupil, typed)
    assert status == 400 and body["error"] == code
    assert body["message"].startswith("Nieprawidłowa ocena")
    assert body["value"] == ""


def test_a_column_is_added_with_the_statutes_weight_and_a_wrong_weight_is_refused(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    session.commit()  # a refusal rolls the request back: the world stays
    client = login_as(world.teacher)
    form = {
        "csrf_token": csrf_token(client, _grid(world)),
        "category": str(world.quiz_category.id),
        "given_on": world.today.isoformat(),
        "description": "kartkówka: procenty",
    }
    refused = client.post(f"{_grid(world)}/columns", data={**form, "weight": "9"})
    assert refused.status_code == 400
    page = text(refused.get_data(as_text=True))
    assert "Statut szkoły nie przewiduje wagi 9" in page
    assert 'value="kartkówka: procenty"' in refused.get_data(as_text=True)  # kept what was typed
    assert session.query(Assessment).count() == 0
    done = client.post(f"{_grid(world)}/columns", data=form)
    assert done.status_code == 302
    (made,) = session.query(Assessment).all()
    assert made.category_id == world.quiz_category.id and made.description == "kartkówka: procenty"
    assert "Dodano kolumnę ocen." in text(
        client.get(done.headers["Location"]).get_data(as_text=True)
    )


def test_another_teachers_grid_or_a_foreign_group_is_missing(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    for user in (world.tutor, world.other_teacher, world.secretary, world.school_admin):
        assert login_as(user).get(_grid(world)).status_code == 404
    client = login_as(world.teacher)
    assert client.get(_grid(world) + "?group=5").status_code == 404
    assert client.get(_grid(world) + "?term=99999999999999999999").status_code == 404
    huge = f"/gradebook/{2**63}/{world.math.id}"
    assert client.get(huge).status_code == 404


def test_the_start_page_lists_lessons_without_topic_or_roll_oldest_first(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    import datetime as dt

    web = Actor(world.teacher, Channel.WEB)
    last_week = world.today - dt.timedelta(days=7)
    older = make_lesson(
        world.school, world.class_a, world.math, world.teacher, world.room, last_week, 3
    )
    newer = make_lesson(
        world.school, world.class_a, world.math, world.teacher, world.room, last_week, 4
    )
    done = make_lesson(
        world.school, world.class_a, world.math, world.teacher, world.room, last_week, 5
    )
    submit_roll(web, done, {}, base=None, topic="Ułamki", base_topic="")
    substitute(Actor(world.school_admin, Channel.WEB), world.lesson, world.other_teacher)
    html = login_as(world.teacher).get("/").get_data(as_text=True)
    missing = html.split('id="missing"')[1].split("</section>")[0]
    links = re.findall(r'href="/lessons/(\d+)"', missing)
    assert links[:2] == [str(older.id), str(newer.id)]
    assert str(done.id) not in links
    assert "Lekcje bez tematu lub obecności (2)" in text(html)
    assert "zastępstwo za Ciebie" in text(html)  # today's lesson, taken by a colleague
    assert f"/gradebook/{world.class_a.id}/{world.math.id}" in html


def test_the_lesson_list_goes_week_by_week_to_any_past_lesson(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    import datetime as dt

    past = make_lesson(
        world.school,
        world.class_a,
        world.math,
        world.teacher,
        world.room,
        world.today - dt.timedelta(days=14),
        3,
    )
    client = login_as(world.teacher)
    here = client.get("/teacher/lessons").get_data(as_text=True)
    assert f"/lessons/{world.lesson.id}" in here and f"/lessons/{past.id}" not in here
    week = (world.today - dt.timedelta(days=14)).isoformat()
    there = client.get(f"/teacher/lessons?week={week}").get_data(as_text=True)
    assert f"/lessons/{past.id}" in there and "brak tematu" in text(there)
    assert client.get("/teacher/lessons?week=nonsense").status_code == 404
    assert login_as(world.secretary).get("/teacher/lessons").status_code == 404


def test_a_past_lessons_roll_and_topic_are_corrected_with_their_history(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    """From the start page's list of lessons without a topic, one click: the lesson of last
    week, its roll taken, then corrected; the page shows old → new, who and how."""
    import datetime as dt

    past = make_lesson(
        world.school,
        world.class_a,
        world.math,
        world.teacher,
        world.room,
        world.today - dt.timedelta(days=7),
        3,
    )
    submit_roll(Actor(world.teacher, Channel.KIOSK, world.kiosk.id), past, {}, base=None)
    session.commit()
    client = login_as(world.teacher)
    home = client.get("/").get_data(as_text=True)
    assert f'href="/lessons/{past.id}"' in home.split('id="missing"')[1]
    path = f"/lessons/{past.id}"
    form = {
        **hidden_fields(client, path),
        f"state-{world.pupil.id}": "nb",
        f"state-{world.classmate.id}": "ob",
        "topic": "Ułamki dziesiętne",
    }
    assert client.post(path, data=form).status_code == 302
    page = text(client.get(path).get_data(as_text=True))
    assert "Historia zmian tej lekcji" in page
    assert "Zosia Wiśniewska: obecny (ob) → nieobecny (nb)" in page
    assert "temat lekcji: — → Ułamki dziesiętne" in page
    assert "Anna Nowak" in page and "przeglądarka" in page
    # Held now, with a roll: no longer on the start page's list.
    assert (
        f'href="/lessons/{past.id}"'
        not in client.get("/")
        .get_data(as_text=True)
        .split("Ten tydzień")[0]
        .split('id="missing"')[-1]
    )


def test_the_form_tutors_start_page_shows_new_excuse_requests(
    world: World, session: Session, login_as: Login, school_hours: object
) -> None:
    from ediary.excuses.operations import request_excuse

    submit_roll(
        Actor(world.teacher, Channel.WEB),
        world.lesson,
        {world.pupil.id: "nb"},
        base={world.pupil.id: None},
    )
    before = login_as(world.tutor).get("/").get_data(as_text=True)
    assert "Nowe prośby o usprawiedliwienie" not in before
    record = next(
        a
        for a in session.query(Attendance).filter_by(
            lesson_id=world.lesson.id, pupil_id=world.pupil.id
        )
    )
    request_excuse(
        Actor(world.parent, Channel.WEB), world.pupil, absences=[record], future_days=[],
        reason="Choroba.", note=None, today=world.today,
    )  # fmt: skip
    html = login_as(world.tutor).get("/").get_data(as_text=True)
    assert "Nowe prośby o usprawiedliwienie" in text(html)
    assert 'href="/excuses"' in html.split("Nowe prośby o usprawiedliwienie")[1]
    # The lesson's own teacher is not the tutor: nothing of it on their page.
    assert "Nowe prośby" not in login_as(world.teacher).get("/").get_data(as_text=True)
