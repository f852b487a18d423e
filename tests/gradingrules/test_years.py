"""The grading rules per school year: each year computes with its own rules, a change of this
year's never moves last year's averages or attendance, the page edits a chosen year (a closed
one only shown), and the refusals: a foreign or impossible year id, a closed year, a weight the
form does not allow, a stale version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import utcnow
from ediary.diary.models import Attendance, Grade
from ediary.diary.operations import record_grade
from ediary.diary.queries import attendance_by_subject, attendance_types, weighted_average
from ediary.errors import Refusal
from ediary.gradingrules.models import YearRules
from ediary.gradingrules.operations import change_grading_rules
from ediary.gradingrules.rules import read_rules
from ediary.gradingrules.years import rules_for_year
from ediary.people.models import User
from ediary.schools.models import SchoolYear
from ediary.schools.operations import create_school_year
from ediary.timetable.models import Lesson
from tests.factories import SYSTEM, World, _add, make_lesson
from tests.gradingrules.helpers import categories, grade_rows, rules_form, year_rules_form
from tests.html import hidden_fields, text

Login = Callable[[User], FlaskClient]


def _last_year(world: World) -> SchoolYear:
    start = world.year.starts_on
    return create_school_year(
        SYSTEM,
        world.school,
        start.replace(year=start.year - 1),
        dt.date(start.year, 2, 1),
        dt.date(start.year, 6, 26),
    )


def _save(world: World, year: SchoolYear, **changes: str) -> YearRules:
    school = world.school
    types = list(attendance_types(school.id).values())
    form = year_rules_form(school, year, **changes)
    return change_grading_rules(
        Actor(world.school_admin, Channel.WEB),
        school,
        read_rules(form, categories(school), types),
        categories(school),
        types,
        base_version=int(form["version"]),
        year=year,
        today=world.today,
    )


@operation
def _close(actor: Actor, year: SchoolYear) -> None:
    year.closed_at = utcnow()


def _grade(world: World, value: str, given_on: dt.date) -> Grade:
    return record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=world.pupil,
        subject=world.math,
        value=value,
        category=world.test_category,
        given_on=given_on,
    )


def test_a_grade_of_last_year_keeps_last_year_s_weights(world: World, session: Session) -> None:
    last = _last_year(world)
    test = _grade(world, "5", last.starts_on + dt.timedelta(days=20))
    quiz = Grade(
        school_id=world.school.id,
        pupil_id=world.pupil.id,
        subject_id=world.math.id,
        term_id=test.term_id,
        teacher_id=world.teacher.id,
        value="3",
        category_id=world.quiz_category.id,
        given_on=test.given_on,
    )
    _add(SYSTEM, quiz)
    session.flush()
    old = [test, quiz]
    assert weighted_average(old, world.school).value == Decimal("4.20")  # (5×3 + 3×2) / 5
    rows = grade_rows()
    # This year's statute: a test weighs 1, a plus is worth 0.75.
    _save(world, world.year, **{f"weight-{world.test_category.id}": "1", "plus_value": "0.75"})
    session.flush()
    assert rules_for_year(world.year).category(world.test_category) == (1, True)
    # Last year's grades: last year's rules, now a row of their own, unchanged.
    assert rules_for_year(last).category(world.test_category) == (3, True)
    assert rules_for_year(last).plus_value == Decimal("0.5")
    assert weighted_average(old, world.school).value == Decimal("4.20")
    assert weighted_average(old, rules_for_year(last)).value == Decimal("4.20")
    assert weighted_average(old, rules_for_year(world.year)).value == Decimal("3.67")
    assert grade_rows() == rows  # no grade row was written
    # A grade of this year is computed with this year's.
    now = [_grade(world, "5+", world.today)]
    assert weighted_average(now, world.school).value == Decimal("5.75")


def test_last_year_s_attendance_counts_as_last_year_s_statute(
    world: World, session: Session
) -> None:
    last = _last_year(world)
    late = attendance_types(world.school.id)["sp"]  # spóźnienie: counts as present
    day = last.starts_on + dt.timedelta(days=30)
    lessons: list[Lesson] = [
        make_lesson(world.school, world.class_a, world.math, world.teacher, world.room, day),
        world.lesson,
    ]
    for lesson in lessons:
        _add(
            SYSTEM,
            Attendance(
                school_id=world.school.id,
                lesson_id=lesson.id,
                pupil_id=world.pupil.id,
                type_id=late.id,
                recorded_at=utcnow(),
            ),
        )
    _save(world, world.year, **{f"counts-as-{late.id}": "absent"})
    session.flush()
    before = attendance_by_subject(world.pupil, last.starts_on, last.ends_on)[world.math.id]
    assert (before.present, before.absent) == (1, 0)
    now = attendance_by_subject(world.pupil, world.year.starts_on, world.year.ends_on)
    assert (now[world.math.id].present, now[world.math.id].absent) == (0, 1)


def test_next_year_s_rules_change_neither_this_year_nor_today_s(
    world: World, session: Session
) -> None:
    start = world.year.ends_on + dt.timedelta(days=60)
    following = create_school_year(
        SYSTEM,
        world.school,
        start,
        dt.date(start.year + 1, 2, 1),
        dt.date(start.year + 1, 6, 25),
    )
    _save(world, following, **{f"weight-{world.test_category.id}": "6"})
    session.flush()
    assert rules_for_year(following).category(world.test_category) == (6, True)
    assert rules_for_year(world.year).category(world.test_category) == (3, True)
    assert world.test_category.weight == 3  # what kiosks and rolls read today


def test_a_closed_year_is_read_only(world: World, session: Session, login_as: Login) -> None:
    last = _last_year(world)
    _close(SYSTEM, last)
    session.commit()
    with pytest.raises(Refusal) as refused:
        _save(world, last, plus_value="0.75")
    assert refused.value.code == "year_closed"
    assert "jest zamknięty" in str(refused.value.message)
    session.rollback()
    client = login_as(world.school_admin)
    path = f"/schools/{world.school.id}/grading-rules"
    shown = client.get(f"{path}?year={last.id}").get_data(as_text=True)
    assert f"Rok szkolny {last.name} jest zamknięty" in text(shown)
    assert "Zapisz zasady" not in shown
    form = {
        **hidden_fields(client, path),
        **year_rules_form(world.school, last, plus_value="0.75"),
    }
    for action in ("save", "preview"):
        sent = client.post(path, data={**form, "action": action})
        assert sent.status_code == 400
        assert "jest zamknięty" in text(sent.get_data(as_text=True))
    session.expire_all()
    assert rules_for_year(last).plus_value == Decimal("0.5")
    assert session.scalar(select(YearRules).where(YearRules.year_id == last.id)) is None


def test_the_page_edits_the_chosen_year_and_refuses_foreign_and_impossible_ids(
    world: World, session: Session, login_as: Login
) -> None:
    last = _last_year(world)
    other_year = session.scalar(
        select(SchoolYear).where(SchoolYear.school_id == world.other_school.id)
    )
    assert other_year is not None
    session.commit()
    client = login_as(world.school_admin)
    path = f"/schools/{world.school.id}/grading-rules"
    page = text(client.get(path).get_data(as_text=True))
    assert f"Zasady roku szkolnego {world.year.name}" in page  # the current year by default
    for bad in (str(other_year.id), str(2**63), str(2**64 + 5), "-1", "x"):
        assert client.get(f"{path}?year={bad}").status_code == 404
        form = {**hidden_fields(client, path), **rules_form(world.school), "year": bad}
        assert client.post(path, data={**form, "action": "save"}).status_code == 404
    weight = f"weight-{world.test_category.id}"
    form = {
        **hidden_fields(client, f"{path}?year={last.id}"),
        **year_rules_form(world.school, last),
    }
    # A weight the form does not allow: a Polish refusal, what was typed kept, nothing saved.
    refused = client.post(path, data={**form, weight: "11", "action": "save"})
    assert refused.status_code == 400
    assert "musi wynosić od 0 do 10" in text(refused.get_data(as_text=True))
    # The preview of last year counts last year's averages; saving changes last year only.
    preview = client.post(path, data={**form, weight: "2", "action": "preview"})
    assert "Żadna średnia się nie zmieni" in text(preview.get_data(as_text=True))
    saved = client.post(path, data={**form, weight: "2", "action": "save"})
    assert saved.status_code == 302 and f"year={last.id}" in saved.headers["Location"]
    session.expire_all()
    assert rules_for_year(last).category(world.test_category) == (2, True)
    assert rules_for_year(world.year).category(world.test_category) == (3, True)
    assert world.test_category.weight == 3
    history = text(client.get(f"{path}?year={last.id}").get_data(as_text=True))
    assert "sprawdzian waga: 3 → 2" in history
    assert "Zasad tego roku jeszcze nie zmieniano" in text(client.get(path).get_data(True))
    # A page shown before the save (version 0) sent again: a conflict, not an overwrite.
    fresh = hidden_fields(client, f"{path}?year={last.id}")
    stale = client.post(path, data={**form, **fresh, "version": "0", weight: "4", "action": "save"})
    assert stale.status_code == 409
    session.expire_all()
    assert rules_for_year(last).category(world.test_category) == (2, True)
