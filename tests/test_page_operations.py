"""`perform` (ediary/web/pages.py), the one way a page runs an operation: a form sent twice acts
once, a write that meets another writer's is run again from a fresh read, a refused form keeps
its token. The pages' own behaviour is tested with each page; this is the helper's."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from ediary.excuses.models import ExcuseRequest
from ediary.people.models import User
from ediary.timetable.models import Lesson, LessonStatus
from ediary.web.models import SentForm
from tests.events import capture_events
from tests.factories import World
from tests.html import hidden_fields, text
from tests.portal.test_excuses import school_day

Login = Callable[[User], FlaskClient]


def _requests(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ExcuseRequest)) or 0


def test_a_form_sent_twice_acts_once_and_answers_the_same(
    world: World, session: Session, login_as: Login
) -> None:
    """An excuse request is not idempotent by nature (two are two requests): its form carries a
    one-time token, and the second sending goes where the first went, saying the same."""
    session.commit()
    client = login_as(world.parent)
    path = f"/portal/{world.pupil.id}/excuses"
    day = school_day(world.today, 1).isoformat()
    form = {**hidden_fields(client, path), "reason": "Wizyta u lekarza.", "from": day, "to": day}
    assert "form_token" in form

    first = capture_events(lambda: client.post(path, data=form), "excuse.requested").result
    second = capture_events(lambda: client.post(path, data=form)).result

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == path
    assert _requests(session) == 1
    page = text(client.get(path).get_data(as_text=True))
    assert page.count("Wysłano prośbę o usprawiedliwienie do wychowawcy.") == 2
    # A new page load is a new form: a second request of the parent's own is theirs to send.
    fresh = {**hidden_fields(client, path), "reason": "Drugi wyjazd.", "from": day, "to": day}
    assert fresh["form_token"] != form["form_token"]
    assert client.post(path, data=fresh).status_code == 302
    assert _requests(session) == 2


def test_a_refused_form_keeps_its_token_and_what_was_typed(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.parent)
    path = f"/portal/{world.pupil.id}/excuses"
    form = {**hidden_fields(client, path), "reason": "Choroba"}  # no absence, no day
    response = client.post(path, data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'name="form_token" value="{form["form_token"]}"' in html
    assert ">Choroba</textarea>" in html
    assert session.scalar(select(func.count()).select_from(SentForm)) == 0  # nothing written


def test_a_malformed_token_is_no_token(world: World, session: Session, login_as: Login) -> None:
    session.commit()
    client = login_as(world.parent)
    path = f"/portal/{world.pupil.id}/excuses"
    day = school_day(world.today, 1).isoformat()
    form = {**hidden_fields(client, path), "reason": "Lekarz.", "from": day, "to": day}
    form["form_token"] = "'; drop table sent_forms; --"
    assert client.post(path, data=form).status_code == 302
    assert session.scalar(select(func.count()).select_from(SentForm)) == 0
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'name="form_token" value="[0-9a-f]{32}"', page)


def test_a_write_that_meets_another_is_run_again_from_a_fresh_read(
    world: World, session: Session, login_as: Login, commits: list[int]
) -> None:
    """Someone changed the lesson between this request's read and its write (its version moved):
    the flush fails, and the operation runs again on what the other writer left."""
    session.commit()
    client = login_as(world.school_admin)
    form = hidden_fields(client, f"/lessons/{world.lesson.id}")
    del form["version"]  # no comparison with the page: the retry alone decides
    lesson_id = world.lesson.id

    def other_writer(flushing: Session, *_args: object) -> None:
        flushing.connection().execute(
            update(Lesson).where(Lesson.id == lesson_id).values(version=Lesson.version + 1)
        )

    event.listen(Session, "before_flush", other_writer, once=True)
    commits.clear()
    try:
        sent = capture_events(
            lambda: client.post(f"/lessons/{lesson_id}/cancel", data={**form, "confirm": "y"}),
            "lesson.cancelled",
        )
    finally:
        if event.contains(Session, "before_flush", other_writer):
            event.remove(Session, "before_flush", other_writer)
    assert sent.result.status_code == 302
    assert len(commits) == 1
    session.expire_all()
    assert world.lesson.status is LessonStatus.CANCELLED
