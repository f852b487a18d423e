"""Tests and homework announced for a lesson (issue 18, item 4): the operations, the statute's
limit warning, the teacher's pages with their refusals, and the parent's week (item 5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.errors import Conflict, Refusal
from ediary.homework.models import MAX_DESCRIPTION, Homework, HomeworkKind
from ediary.homework.operations import (
    LimitWarning,
    announce,
    change_homework,
    withdraw_homework,
)
from ediary.people.models import User
from ediary.schools.models import ClassGroup
from ediary.schools.operations import add_to_group, link_guardian
from ediary.timetable.models import Lesson
from ediary.timetable.operations import cancel_lesson, substitute_lesson
from tests.events import capture_events
from tests.factories import SYSTEM, World, _add, make_lesson, make_user
from tests.html import hidden_fields, text

Login = Callable[[User], FlaskClient]


def _teacher(world: World) -> Actor:
    return Actor(world.teacher, Channel.WEB)


def _lesson_on(world: World, days: int, slot: int = 1, teacher: User | None = None) -> Lesson:
    return make_lesson(
        world.school,
        world.class_a,
        world.math,
        teacher or world.teacher,
        world.room,
        world.today + dt.timedelta(days=days),
        slot_number=slot,
    )


def _monday(world: World) -> dt.date:
    return world.today - dt.timedelta(days=world.today.weekday())


def _next_week(world: World, weekday: int, slot: int = 1) -> Lesson:
    """A lesson of 5a's maths next week on `weekday` (0 = Monday)."""
    days = (_monday(world) + dt.timedelta(days=7 + weekday) - world.today).days
    return _lesson_on(world, days, slot)


def _test(world: World, lesson: Lesson, confirm: bool = False) -> Homework:
    return announce(
        _teacher(world),
        lesson,
        kind=HomeworkKind.TEST,
        description="Ułamki zwykłe",
        due_date=None,
        today=world.today,
        confirm=confirm,
    )


# --- the operations --------------------------------------------------------------------------


def test_an_announcement_reaches_the_class_with_its_history(world: World, session: Session) -> None:
    lesson = _lesson_on(world, 1)
    captured = capture_events(lambda: _test(world, lesson), "homework.changed")
    homework = captured.result
    (event,) = captured.events
    assert (event.audience, event.audience_id) == ("class", world.class_a.id)
    assert event.payload["change"] == "added" and event.payload["kind"] == "test"
    assert (homework.date, homework.class_id, homework.subject_id) == (
        lesson.date,
        world.class_a.id,
        world.math.id,
    )
    later = _lesson_on(world, 8)
    changed = capture_events(
        lambda: change_homework(
            _teacher(world),
            homework,
            base_version=1,
            lesson=later,
            kind=HomeworkKind.QUIZ,
            description="Ułamki dziesiętne",
            due_date=None,
            today=world.today,
        ),
        "homework.changed",
    )
    assert changed.events[0].payload["change"] == "changed"
    assert (homework.date, homework.kind, homework.version) == (later.date, HomeworkKind.QUIZ, 2)
    capture_events(
        lambda: withdraw_homework(_teacher(world), homework, base_version=2), "homework.changed"
    )
    assert homework.withdrawn
    capture_events(lambda: withdraw_homework(_teacher(world), homework, base_version=2))  # twice
    rows = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "homework", HistoryEntry.entity_id == homework.id)
        .order_by(HistoryEntry.id)
    ).all()
    assert [r.action for r in rows] == ["create", "update", "update"]
    assert rows[1].old is not None and rows[1].old["description"] == "Ułamki zwykłe"


def test_a_stale_version_is_a_conflict(world: World, session: Session) -> None:
    homework = _test(world, _lesson_on(world, 1))
    withdraw = lambda: withdraw_homework(_teacher(world), homework, base_version=7)  # noqa: E731
    with pytest.raises(Conflict):
        capture_events(withdraw)
    assert not homework.withdrawn


@pytest.mark.parametrize(
    ("days", "kind", "description", "due", "code"),
    [
        (-1, HomeworkKind.TEST, "Ułamki", None, "homework_past"),
        (1, HomeworkKind.TEST, "   ", None, "homework_empty"),
        (1, HomeworkKind.TEST, "x" * (MAX_DESCRIPTION + 1), None, "description_too_long"),
        (1, HomeworkKind.HOMEWORK, "Zad. 3 s. 40", None, "due_date_invalid"),
        (3, HomeworkKind.HOMEWORK, "Zad. 3 s. 40", 1, "due_date_invalid"),
    ],
)
def test_refusals_write_nothing(
    world: World,
    session: Session,
    days: int,
    kind: HomeworkKind,
    description: str,
    due: int | None,
    code: str,
) -> None:
    lesson = _lesson_on(world, days)

    def refused() -> None:
        with pytest.raises(Refusal, match=code):
            announce(
                _teacher(world), lesson, kind=kind, description=description,
                due_date=world.today + dt.timedelta(days=due) if due is not None else None,
                today=world.today,
            )  # fmt: skip

    capture_events(refused)
    assert session.scalar(select(func.count(Homework.id))) == 0


def test_a_cancelled_lesson_takes_no_announcement(world: World, session: Session) -> None:
    lesson = _lesson_on(world, 1)
    cancel_lesson(Actor(world.school_admin, Channel.WEB), lesson)
    with pytest.raises(Refusal, match="lesson_cancelled"):
        _test(world, lesson)


def test_the_fourth_test_of_a_week_and_the_second_of_a_day_warn_before_saving(
    world: World, session: Session
) -> None:
    for weekday in range(3):  # Monday to Wednesday next week: three tests, the limit
        _test(world, _next_week(world, weekday))
    thursday = _next_week(world, 3)
    with pytest.raises(LimitWarning) as warned:
        _test(world, thursday)
    assert warned.value.code == "test_limit" and len(warned.value.details["warnings"]) == 1
    assert "w tym tygodniu jest już: 3" in warned.value.details["warnings"][0]
    # A kartkówka is not counted.
    announce(
        _teacher(world), thursday, kind=HomeworkKind.QUIZ, description="Kartkówka",
        due_date=None, today=world.today,
    )  # fmt: skip
    # Confirming saves it.
    assert _test(world, thursday, confirm=True).id
    # Two on one day: the day's limit too (the week's is over as well).
    tuesday_second = _next_week(world, 1, slot=2)
    with pytest.raises(LimitWarning) as twice:
        _test(world, tuesday_second)
    assert len(twice.value.details["warnings"]) == 2


def test_changing_the_date_to_another_week_avoids_the_warning(
    world: World, session: Session
) -> None:
    for weekday in range(3):
        _test(world, _next_week(world, weekday))
    with pytest.raises(LimitWarning):
        _test(world, _next_week(world, 3))
    in_two_weeks = _lesson_on(world, (_monday(world) - world.today).days + 14)
    assert _test(world, in_two_weeks).date == in_two_weeks.date


# --- the teacher's pages ---------------------------------------------------------------------


def _form(client: FlaskClient, page_lesson: Lesson, **fields: str) -> dict[str, str]:
    page = f"/lessons/{page_lesson.id}/homework"
    data = {"kind": "test", "lesson": str(page_lesson.id), "description": "Ułamki"}
    return {**hidden_fields(client, page), **data, **fields}


def test_the_teacher_announces_from_the_lesson_page_once_even_when_sent_twice(
    world: World, session: Session, login_as: Login, commits: list[int]
) -> None:
    lesson = _lesson_on(world, 1)
    session.commit()
    client = login_as(world.teacher)
    lesson_page = client.get(f"/lessons/{lesson.id}").get_data(as_text=True)
    assert f"/lessons/{lesson.id}/homework" in lesson_page
    assert "/teacher/homework" in client.get("/").get_data(as_text=True)
    data = _form(client, lesson)
    commits.clear()
    sent = capture_events(
        lambda: client.post(f"/lessons/{lesson.id}/homework", data=data), "homework.changed"
    )
    assert sent.result.status_code == 302 and len(commits) == 1
    again = capture_events(lambda: client.post(f"/lessons/{lesson.id}/homework", data=data))
    assert again.result.status_code == 302
    assert session.scalar(select(func.count(Homework.id))) == 1
    listing = text(client.get("/teacher/homework").get_data(as_text=True))
    assert "Ułamki" in listing and "Sprawdzian" in listing


def test_the_page_shows_the_warning_then_saves_when_confirmed(
    world: World, session: Session, login_as: Login
) -> None:
    for weekday in range(3):
        _test(world, _next_week(world, weekday))
    thursday = _next_week(world, 3)
    session.commit()
    client = login_as(world.teacher)
    data = _form(client, thursday, description="Potęgi")
    warned = client.post(f"/lessons/{thursday.id}/homework", data=data)
    page = text(warned.get_data(as_text=True))
    assert warned.status_code == 409
    assert "limit sprawdzianów" in page and "Potęgi" in page  # the input stays
    saved = client.post(f"/lessons/{thursday.id}/homework", data={**data, "confirm": "y"})
    assert saved.status_code == 302
    assert session.scalar(select(func.count(Homework.id))) == 4


@pytest.mark.parametrize(
    "path",
    ["/lessons/{other}/homework", "/lessons/9223372036854775808/homework", "/homework/{foreign}"],
)
def test_a_lesson_or_announcement_not_the_teachers_is_404(
    world: World, session: Session, login_as: Login, path: str
) -> None:
    other = _lesson_on(world, 1, teacher=world.other_teacher)
    foreign = announce(
        Actor(world.other_teacher, Channel.WEB), other, kind=HomeworkKind.QUIZ,
        description="Cudza", due_date=None, today=world.today,
    )  # fmt: skip
    session.commit()
    client = login_as(world.teacher)
    url = path.format(other=other.id, foreign=foreign.id)
    assert client.get(url).status_code == 404
    assert client.post(url, data={"description": "x"}).status_code in (400, 404)


def test_a_foreign_class_lesson_or_huge_id_in_the_form_is_404(
    world: World, session: Session, login_as: Login
) -> None:
    lesson = _lesson_on(world, 1)
    other_class = make_lesson(
        world.school, world.class_b, world.math, world.teacher, world.room,
        world.today + dt.timedelta(days=2),
    )  # fmt: skip
    session.commit()
    client = login_as(world.teacher)
    for target in (str(other_class.id), "9223372036854775808", "-1"):
        data = _form(client, lesson, lesson=target)
        assert client.post(f"/lessons/{lesson.id}/homework", data=data).status_code == 404
    assert session.scalar(select(func.count(Homework.id))) == 0


def test_a_description_over_the_limit_is_refused_on_the_form(
    world: World, session: Session, login_as: Login
) -> None:
    lesson = _lesson_on(world, 1)
    session.commit()
    client = login_as(world.teacher)
    data = _form(client, lesson, description="y" * (MAX_DESCRIPTION + 1))
    response = client.post(f"/lessons/{lesson.id}/homework", data=data)
    assert response.status_code == 400
    assert "Opis jest za długi" in text(response.get_data(as_text=True))


def test_editing_with_a_stale_version_shows_a_conflict(
    world: World, session: Session, login_as: Login
) -> None:
    homework = _test(world, _lesson_on(world, 1))
    session.commit()
    client = login_as(world.teacher)
    fields = hidden_fields(client, f"/homework/{homework.id}")
    change_homework(
        _teacher(world), homework, base_version=1, lesson=homework.lesson, kind=HomeworkKind.TEST,
        description="Zmienione gdzie indziej", due_date=None, today=world.today,
    )  # fmt: skip
    session.commit()
    data = {**fields, "kind": "test", "lesson": str(homework.lesson_id), "description": "Moje"}
    response = client.post(f"/homework/{homework.id}", data=data)
    assert response.status_code == 409
    assert "zmieniła się" in text(response.get_data(as_text=True))


# --- the parent's week ------------------------------------------------------------------------


def test_the_parents_week_shows_lessons_substitutions_cancellations_and_tests(
    world: World, session: Session, login_as: Login
) -> None:
    tomorrow = _lesson_on(world, 1)
    substituted = _lesson_on(world, 1, slot=2)
    cancelled = _lesson_on(world, 1, slot=3)
    admin = Actor(world.school_admin, Channel.WEB)
    substitute_lesson(admin, substituted, world.other_teacher)
    cancel_lesson(admin, cancelled)
    _test(world, tomorrow)
    withdrawn = _test(world, substituted, confirm=True)
    withdraw_homework(_teacher(world), withdrawn, base_version=1)
    session.commit()
    client = login_as(world.parent)
    start = client.get(f"/portal/{world.pupil.id}").get_data(as_text=True)
    assert f"/portal/{world.pupil.id}/week" in start
    page = text(client.get(f"/portal/{world.pupil.id}/week").get_data(as_text=True))
    assert "Sprawdzian Ułamki zwykłe" in page
    assert f"Zastępstwo: {world.other_teacher.full_name}" in page
    assert "Lekcja odwołana" in page
    assert page.count("Ułamki zwykłe") == 1  # the withdrawn one is gone
    week = (_monday(world) + dt.timedelta(days=7)).isoformat()
    html = client.get(f"/portal/{world.pupil.id}/week").get_data(as_text=True)
    assert f"week={week}" in html
    assert client.get(f"/portal/{world.pupil.id}/week?week={week}").status_code == 200


@pytest.mark.parametrize("week", ["kiedyś", "2026-13-01", "1999-01-04"])
def test_a_bad_week_is_404(world: World, session: Session, login_as: Login, week: str) -> None:
    session.commit()
    client = login_as(world.parent)
    assert client.get(f"/portal/{world.pupil.id}/week?week={week}").status_code == 404


def test_another_parents_child_week_is_404(world: World, session: Session, login_as: Login) -> None:
    session.commit()
    assert login_as(world.other_parent).get(f"/portal/{world.pupil.id}/week").status_code == 404


def test_a_groups_announcement_is_in_its_pupils_weeks_only(
    world: World, session: Session, login_as: Login
) -> None:
    """A group taught separately (a language group): its test is in the week of the group's
    pupils, not of their classmates outside it."""
    group = ClassGroup(school_id=world.school.id, class_id=world.class_a.id, name="ang. gr. 1")
    _add(SYSTEM, group)
    add_to_group(SYSTEM, group, world.pupil)
    day = world.today + dt.timedelta(days=1)
    starts = dt.datetime.combine(day, dt.time(11), tzinfo=dt.UTC)
    lesson = Lesson(
        school_id=world.school.id, date=day, slot_number=4, starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=45), class_id=world.class_a.id, group_id=group.id,
        subject_id=world.math.id, teacher_id=world.teacher.id, room_id=world.room.id,
    )  # fmt: skip
    _add(SYSTEM, lesson)
    captured = capture_events(lambda: _test(world, lesson), "homework.changed")
    assert captured.events[0].payload["group_id"] == group.id
    guardian = make_user("rodzic_adama")
    link_guardian(SYSTEM, guardian, world.classmate)
    session.commit()
    week = f"/portal/{{}}/week?week={day.isoformat()}"
    in_group = text(login_as(world.parent).get(week.format(world.pupil.id)).get_data(as_text=True))
    assert "Ułamki zwykłe" in in_group and "ang. gr. 1" in in_group
    outside = login_as(guardian).get(week.format(world.classmate.id)).get_data(as_text=True)
    assert "Ułamki zwykłe" not in text(outside) and "ang. gr. 1" not in text(outside)


def test_the_teacher_corrects_then_withdraws_on_the_page_and_the_history_shows_it(
    world: World, session: Session, login_as: Login
) -> None:
    homework = _test(world, _lesson_on(world, 1))
    session.commit()
    client = login_as(world.teacher)
    page = f"/homework/{homework.id}"
    fields = hidden_fields(client, page)
    data = {**fields, "kind": "quiz", "lesson": str(homework.lesson_id), "description": "Potęgi"}
    changed = capture_events(lambda: client.post(page, data=data), "homework.changed")
    assert changed.result.status_code == 302
    shown = text(client.get(page).get_data(as_text=True))
    assert "Historia zmian" in shown and "Ułamki zwykłe" in shown and "Potęgi" in shown
    withdraw = {**hidden_fields(client, page), "version": "2"}
    gone = capture_events(
        lambda: client.post(f"{page}/withdraw", data=withdraw), "homework.changed"
    )
    assert gone.result.status_code == 302 and gone.events[0].payload["change"] == "withdrawn"
    week = login_as(world.parent).get(f"/portal/{world.pupil.id}/week").get_data(as_text=True)
    assert "Potęgi" not in text(week)
