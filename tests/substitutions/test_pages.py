"""The Zastępstwa page (issue 14 item 3): the absent teacher's lessons with ranked substitutes,
one click to substitute or cancel, the refusals on the page, the staff room's daily list."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ediary.audit.recording import Actor, Channel
from ediary.people.models import User
from ediary.timetable.models import LessonStatus
from ediary.timetable.operations import assign_teacher, substitute_lesson
from tests import factories
from tests.events import capture_events
from tests.factories import World
from tests.html import csrf_token, text

Login = Callable[[User], FlaskClient]


def _page(world: World, teacher: User | None = None) -> str:
    query = f"?teacher={teacher.id}&date={world.today.isoformat()}" if teacher else ""
    return f"/schools/{world.school.id}/substitutions{query}"


def _send(
    client: FlaskClient, world: World, teacher: User, *, version: int | None = None
) -> TestResponse:
    return client.post(
        f"/schools/{world.school.id}/substitutions/lessons/{world.lesson.id}",
        data={
            "csrf_token": csrf_token(client),
            "version": str(version if version is not None else world.lesson.version),
            "absent": str(world.teacher.id),
            "teacher": str(teacher.id),
        },
    )


def test_the_absent_teachers_lesson_is_substituted_with_one_click(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    assert _page(world) in client.get(f"/schools/{world.school.id}").get_data(as_text=True)
    shown = text(client.get(_page(world, world.teacher)).get_data(as_text=True))
    assert "Lekcja nr 1: matematyka, 5a, sala 12" in shown
    # Nobody teaches 5a or mathematics besides the absent one: by name.
    kowalski = shown.index("Zastępstwo: Jan Kowalski")
    zielinska = shown.index("Zastępstwo: Ewa Zielinska")
    assert kowalski < zielinska

    sent = capture_events(lambda: _send(client, world, world.other_teacher), "lesson.substituted")

    assert sent.result.status_code == 302
    assert sent.result.headers["Location"] == _page(world, world.teacher)
    after = text(client.get(_page(world, world.teacher)).get_data(as_text=True))
    assert "Zastępstwo zapisane: Ewa Zielinska prowadzi lekcję nr 1." in after
    assert "Zastępstwo: Ewa Zielinska." in after  # the lesson says who substitutes now
    session.expire_all()
    assert world.lesson.teacher_id == world.other_teacher.id
    day = client.get(f"/schools/{world.school.id}/substitutions/day?date={world.today}")
    row = text(day.get_data(as_text=True))
    assert "1 5a matematyka 12 Anna Nowak Ewa Zielinska" in row
    # Sent twice (a double click): the same place, nothing more published.
    again = capture_events(lambda: _send(client, world, world.other_teacher))
    assert again.result.status_code == 302


def test_who_teaches_the_class_or_the_subject_is_proposed_first(
    world: World, session: Session, login_as: Login
) -> None:
    assign_teacher(factories.SYSTEM, world.other_teacher, world.class_b, world.math)
    session.commit()
    shown = text(login_as(world.school_admin).get(_page(world, world.teacher)).get_data(True))
    assert shown.index("Zastępstwo: Ewa Zielinska") < shown.index("Zastępstwo: Jan Kowalski")
    assert "uczy tego przedmiotu" in shown


def test_a_busy_substitute_is_refused_on_the_page(
    world: World, session: Session, login_as: Login
) -> None:
    elsewhere = factories.make_room(world.school, "7")
    factories.make_lesson(
        world.school, world.class_b, world.math, world.other_teacher, elsewhere, world.today
    )
    session.commit()
    client = login_as(world.school_admin)
    page = text(client.get(_page(world, world.teacher)).get_data(as_text=True))
    assert "Zastępstwo: Ewa Zielinska" not in page  # not proposed: busy then
    response = capture_events(lambda: _send(client, world, world.other_teacher)).result
    assert response.status_code == 400
    assert "Ten nauczyciel ma w tym czasie inną lekcję." in text(response.get_data(as_text=True))


def test_a_lesson_changed_since_the_page_is_a_conflict(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    shown = world.lesson.version
    substitute_lesson(Actor(world.school_admin, Channel.WEB), world.lesson, world.tutor)
    session.commit()
    response = _send(client, world, world.other_teacher, version=shown)
    assert response.status_code == 409
    assert "Lekcja zmieniła się od wczytania strony." in text(response.get_data(as_text=True))
    session.expire_all()
    assert world.lesson.teacher_id == world.tutor.id


def test_foreign_or_unknown_ids_are_404(world: World, session: Session, login_as: Login) -> None:
    foreign_room = factories.make_room(world.other_school, "1")
    foreign_subject = factories.make_subject(world.other_school, "fizyka", "fiz")
    foreign = factories.make_lesson(
        world.other_school,
        world.class_other_school,
        foreign_subject,
        world.other_school_admin,
        foreign_room,
        world.today,
    )
    session.commit()
    client = login_as(world.school_admin)
    base = f"/schools/{world.school.id}/substitutions"
    data = {"csrf_token": csrf_token(client), "teacher": str(world.other_teacher.id)}
    assert client.post(f"{base}/lessons/{foreign.id}", data=data).status_code == 404
    assert client.post(f"{base}/lessons/{2**63}", data=data).status_code == 404
    parent_as_teacher = {**data, "teacher": str(world.parent.id)}
    assert (
        client.post(f"{base}/lessons/{world.lesson.id}", data=parent_as_teacher).status_code == 404
    )
    assert client.get(f"{base}?teacher={2**63}").status_code == 404
    assert client.get(f"{base}?teacher={world.other_school_admin.id}").status_code == 404
    assert client.get(f"/schools/{world.other_school.id}/substitutions").status_code == 404


def test_the_lesson_is_cancelled_from_the_page(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    sent = capture_events(
        lambda: client.post(
            f"/schools/{world.school.id}/substitutions/lessons/{world.lesson.id}/cancel",
            data={
                "csrf_token": csrf_token(client),
                "version": str(world.lesson.version),
                "absent": str(world.teacher.id),
            },
        ),
        "lesson.cancelled",
    )
    assert sent.result.status_code == 302
    session.expire_all()
    assert world.lesson.status is LessonStatus.CANCELLED
    day = client.get(f"/schools/{world.school.id}/substitutions/day?date={world.today}")
    assert "1 5a matematyka 12 Anna Nowak odwołana" in text(day.get_data(as_text=True))


def test_the_secretary_sees_the_page_without_the_buttons(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    page = text(login_as(world.secretary).get(_page(world, world.teacher)).get_data(True))
    assert "Lekcja nr 1: matematyka" in page and "Zastępstwo: " not in page


def test_the_parent_sees_the_substitution_on_the_portal(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.parent)
    assert "Zastępstwo" not in text(client.get(f"/portal/{world.pupil.id}").get_data(True))
    substitute_lesson(Actor(world.school_admin, Channel.WEB), world.lesson, world.tutor)
    session.commit()
    page = text(client.get(f"/portal/{world.pupil.id}").get_data(as_text=True))
    assert "matematyka" in page and "Zastępstwo" in page
