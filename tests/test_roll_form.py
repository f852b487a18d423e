"""The web roll form (issue 10): it sends only what the teacher changed, with what the page
showed; a change made meanwhile is kept, shown with who made it, and saving again is explicit.
A lesson that has not begun takes no entries (item 3): the page shows it read-only and says from
when."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel, operation
from ediary.diary.models import Attendance
from ediary.diary.operations import submit_roll
from ediary.people.models import User
from ediary.schools.models import School
from ediary.timetable.models import Lesson, LessonStatus
from tests.factories import World, make_lesson
from tests.html import hidden_fields, text

Login = Callable[[User], FlaskClient]
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
WTF_HIDDEN = re.compile(r'<input id="[^"]+" name="([^"]+)" type="hidden" value="([^"]*)"')


@operation
def _set(actor: Actor, row: Any, **values: Any) -> None:
    for name, value in values.items():
        setattr(row, name, value)


def codes(session: Session, lesson: Lesson) -> dict[int, str]:
    rows = session.scalars(select(Attendance).where(Attendance.lesson_id == lesson.id))
    return {a.pupil_id: a.type.code for a in rows}


def selected(page: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for pupil_id, options in re.findall(
        r'<select id="state-(\d+)" name="state-\d+">(.*?)</select>', page, re.S
    ):
        match = re.search(r'<option value="([^"]+)" selected>', options)
        if match:
            found[int(pupil_id)] = match.group(1)
    return found


class Page:
    """One teacher's browser tab: loaded once, then sent back with what the teacher changed."""

    def __init__(self, client: FlaskClient, lesson: Lesson) -> None:
        self.client = client
        self.path = f"/lessons/{lesson.id}"
        self.html = client.get(self.path).get_data(as_text=True)
        self.hidden = hidden_fields(client, self.path)  # same page state, a fresh CSRF token
        self.fields = {f"state-{p}": code for p, code in selected(self.html).items()}

    def save(self, **changes: str) -> Any:
        data = {**self.hidden, **self.fields, **changes}
        response = self.client.post(self.path, data=data)
        self.html = response.get_data(as_text=True)
        self.hidden = dict(HIDDEN.findall(self.html)) | dict(WTF_HIDDEN.findall(self.html))
        self.fields = {f"state-{p}": code for p, code in selected(self.html).items()}
        return response


def test_a_stale_page_keeps_what_others_changed_and_shows_the_conflict(
    school_hours: object, world: World, session: Session, login_as: Login
) -> None:
    teacher = Actor(world.teacher, Channel.WEB)
    submit_roll(teacher, world.lesson, {world.pupil.id: "nb"}, base={world.pupil.id: None})
    session.commit()
    page = Page(login_as(world.teacher), world.lesson)
    # Meanwhile the form tutor excuses the absence (the web, another person).
    tutor = Actor(world.tutor, Channel.WEB)
    submit_roll(tutor, world.lesson, {world.pupil.id: "u"}, base={world.pupil.id: "nb"})
    session.commit()

    # On the stale page the teacher makes the pupil late and releases the classmate.
    response = page.save(**{f"state-{world.pupil.id}": "sp", f"state-{world.classmate.id}": "zw"})

    assert response.status_code == 409
    session.expire_all()
    # The classmate's change is saved; the excuse stands.
    assert codes(session, world.lesson) == {world.pupil.id: "u", world.classmate.id: "zw"}
    shown = text(page.html)
    assert "Zmienione w międzyczasie przez kogoś innego" in shown
    assert (
        "Zosia Wiśniewska : Twój wybór: spóźniony (sp) ; zapisane: nieobecny usprawiedliwiony (u)"
        f" ({world.tutor.full_name}, " in shown
    )
    assert "przeglądarka)" in shown
    # The teacher's choice stays in the form, over the server's value as its new base ...
    assert page.fields[f"state-{world.pupil.id}"] == "sp"
    assert page.hidden[f"base-{world.pupil.id}"] == "u"
    assert page.fields[f"state-{world.classmate.id}"] == "zw"
    # ... so saving again is the teacher's explicit decision, and it is applied.
    again = page.save()
    assert again.status_code == 302
    session.expire_all()
    assert codes(session, world.lesson) == {world.pupil.id: "sp", world.classmate.id: "zw"}


def test_a_stale_page_saved_without_changes_overwrites_nothing(
    school_hours: object, world: World, session: Session, login_as: Login
) -> None:
    page = Page(login_as(world.teacher), world.lesson)  # nothing recorded yet: all "ob"
    tutor = Actor(world.tutor, Channel.WEB)
    submit_roll(tutor, world.lesson, {world.pupil.id: "zw"}, base={world.pupil.id: None})
    session.commit()

    assert page.save(topic="Ułamki").status_code == 302

    session.expire_all()
    assert codes(session, world.lesson) == {world.pupil.id: "zw", world.classmate.id: "ob"}
    assert world.lesson.topic == "Ułamki"


def test_a_topic_changed_meanwhile_is_a_conflict_too(
    school_hours: object, world: World, session: Session, login_as: Login
) -> None:
    page = Page(login_as(world.teacher), world.lesson)
    submit_roll(Actor(world.tutor, Channel.WEB), world.lesson, {}, base={}, topic="Ułamki zwykłe")
    session.commit()

    response = page.save(topic="Ułamki dziesiętne")

    assert response.status_code == 409
    assert "temat lekcji : Twój wybór: Ułamki dziesiętne ; zapisane: Ułamki zwykłe (" in text(
        page.html
    )
    assert page.hidden["base_topic"] == "Ułamki zwykłe"
    assert "Ułamki dziesiętne</textarea>" in page.html
    session.expire_all()
    assert world.lesson.topic == "Ułamki zwykłe"


# --- item 3: no entries before the lesson begins ------------------------------------------------


def tomorrows(world: World) -> Lesson:
    return make_lesson(
        world.school,
        world.class_a,
        world.math,
        world.teacher,
        world.room,
        world.today + dt.timedelta(days=1),
    )


def test_tomorrows_lesson_refuses_a_roll_and_says_from_when(
    school_hours: dt.datetime, world: World, session: Session, login_as: Login
) -> None:
    lesson = tomorrows(world)
    session.commit()
    client = login_as(world.teacher)
    path = f"/lessons/{lesson.id}"
    opens = (school_hours + dt.timedelta(days=1)).replace(hour=7, minute=45)
    when = f"{opens.day}.{opens.month:02d}.{opens.year}, 07:45"

    response = client.post(
        path,
        data={**hidden_fields(client, path), f"state-{world.pupil.id}": "nb", "topic": "Ułamki"},
    )

    assert response.status_code == 400
    message = f"Lekcja jeszcze się nie zaczęła. Wpisy do niej można dodawać od {when}."
    assert f"Nic nie zapisano: {message}" in text(response.get_data(as_text=True))
    session.expire_all()
    assert codes(session, lesson) == {}
    assert lesson.status is LessonStatus.PLANNED and lesson.topic is None

    # The page shows the roll read-only, with the same words: no form to fill in vain.
    page = client.get(path).get_data(as_text=True)
    assert message in text(page)
    assert '<form method="post" action="' + path not in page
    assert "nie sprawdzono" in text(page)


@pytest.mark.parametrize(
    ("starts_in", "lead", "status"),
    [
        (10, 15, 302),  # the bell in ten minutes: within the school's margin
        (20, 15, 400),  # in twenty: not yet
        (20, 30, 302),  # the school's margin is a setting
    ],
)
def test_the_margin_before_the_bell_is_the_schools(
    school_hours: dt.datetime,
    world: World,
    session: Session,
    login_as: Login,
    starts_in: int,
    lead: int,
    status: int,
) -> None:
    starts = (school_hours + dt.timedelta(minutes=starts_in)).astimezone(dt.UTC)
    actor = Actor.system(Channel.CLI)
    _set(actor, world.lesson, starts_at=starts, ends_at=starts + dt.timedelta(minutes=45))
    _set(actor, world.school, entry_lead_minutes=lead)
    session.commit()
    client = login_as(world.teacher)
    path = f"/lessons/{world.lesson.id}"

    response = client.post(path, data={**hidden_fields(client, path), "topic": "Ułamki"})

    assert response.status_code == status
    session.expire_all()
    assert (world.lesson.topic == "Ułamki") == (status == 302)
    assert session.get_one(School, world.school.id).entry_lead_minutes == lead
