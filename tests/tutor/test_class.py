"""The form tutor's page "Moja klasa" (issue 15 item 6): the numbers of a made-up class with
known attendance on a pinned day, who is at risk of non-classification and how many of the
remaining lessons they must attend, the guardians' contacts; and who may see it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel, operation
from ediary.diary.operations import submit_roll
from ediary.people.models import User
from ediary.timetable.models import Lesson, LessonStatus
from ediary.tutor.queries import class_report, must_attend
from tests.contacts.helpers import verified_contacts
from tests.factories import World, make_lesson, make_subject, make_world
from tests.gradebook.helpers import column, type_in
from tests.html import text

Login = Callable[[User], FlaskClient]
ZONE = ZoneInfo("Europe/Warsaw")
DAY = dt.date(2026, 10, 14)  # a Wednesday of the first term


@operation
def _cancel(actor: Actor, lesson: Lesson) -> None:
    lesson.status = LessonStatus.CANCELLED


@pytest.fixture
def made_up(session: Session, time_machine: Any) -> World:
    """5a on DAY: mathematics four weeks back (Zosia ob nb nb u, Adam ob ob nb ob), the world's
    lesson today without a roll, two more ahead and a cancelled one; science twice, both present."""
    time_machine.move_to(dt.datetime.combine(DAY, dt.time(10), tzinfo=ZONE), tick=False)
    world = make_world(DAY)
    actor = Actor(world.teacher, Channel.WEB)
    zosia, adam = world.pupil.id, world.classmate.id

    def math(weeks: int) -> Lesson:
        when = DAY + dt.timedelta(weeks=weeks)
        return make_lesson(world.school, world.class_a, world.math, world.teacher, world.room, when)

    rolls = [("ob", "ob"), ("nb", "ob"), ("nb", "nb"), ("u", "ob")]
    for weeks, (z, a) in enumerate(rolls, start=1):
        submit_roll(actor, math(-weeks), {zosia: z, adam: a}, base=None)
    math(1)
    math(2)
    _cancel(actor, math(3))
    science = make_subject(world.school, "przyroda", "prz")
    for weeks in (1, 2):
        when = DAY - dt.timedelta(weeks=weeks)
        lesson = make_lesson(world.school, world.class_a, science, world.tutor, world.room, when, 2)
        submit_roll(Actor(world.tutor, Channel.WEB), lesson, {zosia: "ob", adam: "ob"}, base=None)
    type_in(world, column(world), world.pupil, "4+")
    verified_contacts(world.parent, phone="+48600100200", email="maria@example.pl")
    return world


def test_must_attend_is_the_least_count_that_keeps_half() -> None:
    assert must_attend(1, 3, 3, 50) == 3  # 4 of 7 ≥ 3.5
    assert must_attend(3, 1, 3, 50) == 1  # 4 of 7
    assert must_attend(2, 2, 0, 50) == 0  # exactly half stays classified
    assert must_attend(0, 4, 2, 50) == 3  # more than remain: cannot make it
    assert must_attend(5, 0, 5, 50) == 0


def test_the_numbers_of_a_made_up_class(made_up: World) -> None:
    world = made_up
    term = next(t for t in world.year.terms if t.starts_on <= DAY <= t.ends_on)
    report = class_report(world.class_a, term, DAY)
    assert [s.name for s in report.subjects] == ["matematyka", "przyroda"]
    rows = {row.pupil.id: row for row in report.pupils}
    zosia, adam = rows[world.pupil.id], rows[world.classmate.id]
    assert zosia.attendance.present_percent == Decimal("50.0")  # 3 of 6
    math, science = zosia.subjects
    assert (math.attendance.present, math.attendance.absent) == (1, 3)
    assert math.attendance.present_percent == Decimal("25.0")
    assert math.remaining == 3  # today's without a roll and two ahead; the cancelled one is not
    assert math.needed == 3 and math.at_risk and not math.hopeless
    assert math.average.value == Decimal("4.50")
    assert science.attendance.present_percent == Decimal("100.0") and not science.at_risk
    assert adam.attendance.present_percent == Decimal("83.3")  # 5 of 6
    assert adam.subjects[0].needed == 1 and not adam.risks
    assert [(p.pupil.id, s.subject.name) for p, s in report.at_risk] == [
        (world.pupil.id, "matematyka")
    ]


def test_the_page_shows_the_risk_averages_and_contacts(made_up: World, login_as: Login) -> None:
    page = login_as(made_up.tutor).get(f"/tutor/classes/{made_up.class_a.id}")
    assert page.status_code == 200
    html = text(page.get_data(as_text=True))
    assert "Moja klasa 5a" in html
    assert "Wiśniewska Zosia matematyka 25,0% 3 na 3 z 3" in html
    assert "Lewandowski Adam 83,3%" in html
    assert "25,0% · 4,50" in html
    assert "Maria Wisniewska" in html and "maria@example.pl potwierdzony" in html
    assert "600100200" in html
    assert "Kolejka próśb o usprawiedliwienie" in html
    assert "Prośby czekające na decyzję: 0" in html


def test_the_start_page_links_the_tutor_to_the_class(made_up: World, login_as: Login) -> None:
    home = login_as(made_up.tutor).get("/").get_data(as_text=True)
    assert f'href="/tutor/classes/{made_up.class_a.id}"' in home
    other = login_as(made_up.teacher).get("/").get_data(as_text=True)
    assert "/tutor/classes/" not in other


@pytest.mark.parametrize("who", ["teacher", "other_teacher", "parent", "secretary"])
def test_anyone_but_the_tutor_and_the_admin_gets_404(
    made_up: World, login_as: Login, who: str
) -> None:
    client = login_as(getattr(made_up, who))
    assert client.get(f"/tutor/classes/{made_up.class_a.id}").status_code == 404


def test_the_school_admin_sees_the_class_without_the_tutors_queue(
    made_up: World, login_as: Login
) -> None:
    page = login_as(made_up.school_admin).get(f"/tutor/classes/{made_up.class_a.id}")
    assert page.status_code == 200
    assert "Kolejka próśb" not in page.get_data(as_text=True)


def test_missing_ids_and_foreign_terms_are_404(made_up: World, login_as: Login) -> None:
    client = login_as(made_up.tutor)
    assert client.get(f"/tutor/classes/{2**63 + 5}").status_code == 404
    assert client.get("/tutor/classes/999999").status_code == 404
    path = f"/tutor/classes/{made_up.class_a.id}?term=999999"
    assert client.get(path).status_code == 404


def test_the_page_counts_the_class_excuse_requests_awaiting_a_decision(
    made_up: World, login_as: Login
) -> None:
    from ediary.excuses.operations import request_excuse

    tomorrow = DAY + dt.timedelta(days=1)
    request_excuse(
        Actor(made_up.parent, Channel.WEB), made_up.pupil, absences=[], future_days=[tomorrow],
        reason="Wyjazd rodzinny.", note=None, today=DAY,
    )  # fmt: skip
    page = login_as(made_up.tutor).get(f"/tutor/classes/{made_up.class_a.id}")
    assert "Prośby czekające na decyzję: 1" in text(page.get_data(as_text=True))
    other = login_as(made_up.other_teacher).get(f"/tutor/classes/{made_up.class_b.id}")
    assert "Prośby czekające na decyzję: 0" in text(other.get_data(as_text=True))
