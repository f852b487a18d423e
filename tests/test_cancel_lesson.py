"""The school administrator cancels a lesson from its page: the example to copy for a console
page (README.md, "Adding a page"). The operation's events through `capture_events`, its history;
the page through the `perform` helper: one commit, the refusals on the form, a form sent twice.
Who may post it is the role matrix's (ediary/access/matrix.yaml); the browser test is
tests/browser/test_cancel_lesson.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ediary.access import roles
from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.diary.operations import set_topic
from ediary.errors import Conflict, Refusal
from ediary.people.models import User
from ediary.timetable.models import LessonStatus
from ediary.timetable.operations import cancel_lesson, substitute
from tests.events import capture_events
from tests.factories import World
from tests.html import hidden_fields, text

Login = Callable[[User], FlaskClient]


def _admin(world: World) -> Actor:
    return Actor(world.school_admin, Channel.WEB)


# --- the operation --------------------------------------------------------------------------


def test_a_cancellation_is_published_to_the_class_with_its_history(
    world: World, session: Session
) -> None:
    captured = capture_events(
        lambda: cancel_lesson(_admin(world), world.lesson), "lesson.cancelled"
    )
    (event_,) = captured.events
    assert event_.audience_id == world.class_a.id
    assert event_.payload["lesson_id"] == world.lesson.id
    assert world.lesson.status is LessonStatus.CANCELLED
    assert not roles.can_record_in_lesson(world.teacher, world.lesson)
    change = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "lessons", HistoryEntry.entity_id == world.lesson.id)
        .order_by(HistoryEntry.id)
    ).all()[-1]
    assert (change.actor_id, change.channel) == (world.school_admin.id, "web")
    assert (change.old, change.new) == ({"status": "planned"}, {"status": "cancelled"})
    # Again (a form sent twice): nothing changes, nothing is published.
    capture_events(lambda: cancel_lesson(_admin(world), world.lesson))


def test_a_held_lesson_or_one_changed_since_the_page_is_not_cancelled(
    world: World, session: Session
) -> None:
    shown = world.lesson.version
    substitute(_admin(world), world.lesson, world.other_teacher)

    def stale() -> None:
        with pytest.raises(Conflict) as conflict:
            cancel_lesson(_admin(world), world.lesson, base_version=shown)
        assert conflict.value.status == 409

    capture_events(stale)
    set_topic(Actor(world.other_teacher, Channel.KIOSK), world.lesson, "Ułamki")

    def held() -> None:
        with pytest.raises(Refusal, match="lesson_held"):
            cancel_lesson(_admin(world), world.lesson)

    capture_events(held)
    assert world.lesson.status is LessonStatus.HELD


# --- the page -------------------------------------------------------------------------------


def _cancel(client: FlaskClient, world: World, **fields: str) -> TestResponse:
    """The cancel form as the lesson page gives it (token, version), with what the person set."""
    path = f"/lessons/{world.lesson.id}"
    return client.post(f"{path}/cancel", data={**hidden_fields(client, path), **fields})


def test_the_school_administrator_cancels_from_the_lesson_page(
    world: World, session: Session, login_as: Login, commits: list[int]
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    page = text(client.get(f"/lessons/{world.lesson.id}").get_data(as_text=True))
    assert "Odwołanie lekcji" in page and "Tak, odwołaj tę lekcję" in page
    commits.clear()

    sent = capture_events(lambda: _cancel(client, world, confirm="y"), "lesson.cancelled")

    assert sent.result.status_code == 302
    assert sent.result.headers["Location"] == f"/lessons/{world.lesson.id}"
    assert len(commits) == 1
    after = text(client.get(f"/lessons/{world.lesson.id}").get_data(as_text=True))
    assert "Lekcja została odwołana. Rodzice uczniów klasy już to widzą." in after
    assert "Ta lekcja została odwołana." in after and "Odwołanie lekcji" not in after
    # The same form sent again (a double click): where the first went, and nothing more.
    again = capture_events(lambda: _cancel(client, world, confirm="y"))
    assert again.result.status_code == 302


def test_only_the_school_administrator_is_offered_the_form(
    world: World, session: Session, login_as: Login
) -> None:
    for reader in (world.teacher, world.tutor):
        html = login_as(reader).get(f"/lessons/{world.lesson.id}").get_data(as_text=True)
        assert "/cancel" not in html and "Odwołanie lekcji" not in text(html)


def test_without_the_confirmation_nothing_is_cancelled_and_the_page_says_why(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    refused = capture_events(lambda: _cancel(client, world))
    response = refused.result
    assert response.status_code == 400
    shown = text(response.get_data(as_text=True))
    assert "Nic nie zapisano: Zaznacz „Tak, odwołaj tę lekcję”, aby ją odwołać." in shown
    assert "Odwołanie lekcji" in shown  # the form again, to tick and send
    session.expire_all()
    assert world.lesson.status is LessonStatus.PLANNED


def test_a_lesson_changed_since_the_page_was_loaded_is_a_conflict_shown_on_the_page(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    form = hidden_fields(client, f"/lessons/{world.lesson.id}")
    substitute(_admin(world), world.lesson, world.other_teacher)  # meanwhile, elsewhere
    session.commit()

    response = client.post(f"/lessons/{world.lesson.id}/cancel", data={**form, "confirm": "y"})

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Lekcja zmieniła się od wczytania strony." in text(html)
    # The page shows the lesson as it is now, with its version: sending it again cancels.
    assert f'value="{world.lesson.version}"' in html and "checked" in html
    assert _cancel(client, world, confirm="y").status_code == 302
    session.expire_all()
    assert world.lesson.status is LessonStatus.CANCELLED


def test_a_held_lesson_is_refused_on_its_page(
    world: World, session: Session, login_as: Login
) -> None:
    set_topic(Actor(world.teacher, Channel.KIOSK), world.lesson, "Ułamki")
    session.commit()
    client = login_as(world.school_admin)
    form = hidden_fields(client, f"/lessons/{world.lesson.id}")
    assert "version" not in form  # no form for a lesson that took place
    response = client.post(
        f"/lessons/{world.lesson.id}/cancel", data={**form, "confirm": "y", "version": "1"}
    )
    assert response.status_code == 400
    assert "Nic nie zapisano: Lekcja z wpisanym tematem już się odbyła." in text(
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("next_", "lands"),
    [
        ("/classes/{class_a}", "/classes/{class_a}"),  # back where the person came from
        ("//evil.example/", "/lessons/{lesson}"),  # never off the site
        ("https://evil.example/", "/lessons/{lesson}"),
        ("/\\evil.example", "/lessons/{lesson}"),
    ],
)
def test_next_is_followed_only_to_a_path_of_this_site(
    world: World, session: Session, login_as: Login, next_: str, lands: str
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    ids = {"{class_a}": str(world.class_a.id), "{lesson}": str(world.lesson.id)}
    for name, value in ids.items():
        next_, lands = next_.replace(name, value), lands.replace(name, value)
    response = _cancel(client, world, confirm="y", next=next_)
    assert response.headers["Location"] == lands
