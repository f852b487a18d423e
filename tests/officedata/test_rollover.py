"""The school year rollover at the end of August: the dry run, then one operation with its
history that promotes, keeps the repeaters, graduates grade 8, creates the new year's terms by
the law's dates and closes the old year, which stays visible and refuses every change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel, insert_many_audited, operation, update_in_bulk
from ediary.diary.models import Attendance
from ediary.diary.operations import record_grade, set_topic
from ediary.diary.queries import attendance_types
from ediary.errors import Refusal
from ediary.gradingrules.operations import change_grading_rules
from ediary.gradingrules.rules import read_rules
from ediary.gradingrules.years import rules_for_year
from ediary.office.rollover.operations import roll_over
from ediary.office.rollover.plan import (
    GRADUATES,
    PROMOTED,
    REPEATS,
    first_school_day,
    last_friday_of_june,
    make_rollover_plan,
)
from ediary.people.models import User
from ediary.schools.models import Pupil, SchoolClass, SchoolYear
from ediary.schools.operations import create_class, enrol_pupil
from ediary.timetable.models import TeachingAssignment
from ediary.timetable.operations import cancel_lesson
from tests.clock import warsaw
from tests.factories import World
from tests.gradingrules.helpers import categories, year_rules_form
from tests.html import hidden_fields

Login = Callable[[User], FlaskClient]
END_OF_AUGUST = warsaw(2027, 8, 28, 10, 0)  # the factories' year 2026/2027 ended on 26 June


def test_the_law_s_dates() -> None:
    assert first_school_day(2026) == dt.date(2026, 9, 1)  # a Tuesday
    assert first_school_day(2028) == dt.date(2028, 9, 4)  # 1 September is a Friday
    assert first_school_day(2029) == dt.date(2029, 9, 3)  # a Saturday
    assert first_school_day(2030) == dt.date(2030, 9, 2)  # a Sunday
    assert last_friday_of_june(2027) == dt.date(2027, 6, 25)
    assert last_friday_of_june(2028) == dt.date(2028, 6, 30)


@pytest.fixture
def august(office_world: World, session: Session, time_machine: TimeMachineFixture) -> World:
    """The world at the end of August, with an eighth grade of one pupil."""
    eighth = create_class(Actor.system(Channel.CLI), office_world.year, "8c", 8)
    enrol_pupil(Actor.system(Channel.CLI), eighth, "Ala", "Absolwentka")
    session.commit()
    time_machine.move_to(END_OF_AUGUST.astimezone(dt.UTC), tick=True)
    return office_world


def _wizard(world: World) -> str:
    return f"/office/schools/{world.school.id}/rollover"


def test_the_dry_run_shows_each_class_and_pupil_and_writes_nothing(
    august: World, login_as: Login, session: Session
) -> None:
    plan = make_rollover_plan(
        august.school, august.today.replace(2027, 8, 28), {august.classmate.id}
    )
    assert plan.refusal is None and plan.name == "2027/2028"
    assert (plan.starts_on, plan.ends_on) == (dt.date(2027, 9, 1), dt.date(2028, 6, 30))
    steps = {s.school_class.name: s for s in plan.classes}
    assert steps["5a"].new_name == "6a" and steps["8c"].new_name is None
    actions = {p.pupil.first_name: (p.action, p.to_class) for s in plan.classes for p in s.pupils}
    assert actions["Zosia"] == (PROMOTED, "6a")
    assert actions["Adam"] == (REPEATS, "5a")
    assert actions["Ala"] == (GRADUATES, None)
    client = login_as(august.secretary)
    written = session.scalar(select(func.count()).select_from(HistoryEntry))
    fields = {
        "csrf_token": _csrf(client, august),
        "action": "preview",
        "repeat": str(august.classmate.id),
    }
    page = client.post(_wizard(august), data=fields)
    assert page.status_code == 200
    shown = page.get_data(as_text=True)
    assert "5a → 6a" in shown and "powtarza klasę (5a)" in shown and "absolwent" in shown
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == written


def _csrf(client: FlaskClient, world: World) -> str:
    from tests.html import csrf_token

    return csrf_token(client, _wizard(world))


def test_applied_once_it_promotes_keeps_graduates_and_closes_the_old_year(
    august: World, login_as: Login, session: Session, commits: list[int]
) -> None:
    client = login_as(august.school_admin)
    fields = {
        **hidden_fields(client, _wizard(august)),  # with the version of the register shown
        "action": "apply",
        "repeat": str(august.classmate.id),
    }
    before = len(commits)
    done = client.post(_wizard(august), data=fields)
    assert done.status_code == 302 and len(commits) == before + 1
    new_year = session.scalar(
        select(SchoolYear).where(
            SchoolYear.name == "2027/2028", SchoolYear.school_id == august.school.id
        )
    )
    assert new_year is not None and [t.starts_on for t in new_year.terms] == [
        dt.date(2027, 9, 1),
        dt.date(2028, 2, 7),
    ]
    session.refresh(august.year)
    assert august.year.closed_at is not None
    classes = {
        c.name: c
        for c in session.scalars(select(SchoolClass).where(SchoolClass.year_id == new_year.id))
    }
    assert set(classes) == {"6a", "6b", "5a"}
    assert classes["6a"].form_tutor_id == august.tutor.id and classes["5a"].form_tutor_id is None
    for pupil in (august.pupil, august.classmate, august.sibling):
        session.refresh(pupil)
    assert august.pupil.class_id == classes["6a"].id
    assert august.classmate.class_id == classes["5a"].id
    assert august.sibling.class_id == classes["6b"].id
    ala = session.scalar(select(Pupil).where(Pupil.last_name == "Absolwentka"))
    assert ala is not None and not ala.active and ala.left_on == dt.date(2027, 6, 26)
    # The class's teachers go up with it: the maths teacher teaches 6a.
    assert session.scalar(
        select(TeachingAssignment).where(
            TeachingAssignment.class_id == classes["6a"].id,
            TeachingAssignment.teacher_id == august.teacher.id,
        )
    )
    moved = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "pupils", HistoryEntry.entity_id == august.pupil.id)
        .order_by(HistoryEntry.id)
    ).all()[-1]
    assert (moved.actor_id, moved.channel) == (august.school_admin.id, "web")
    # A second run changes nothing: the year it would close is closed.
    written = session.scalar(select(func.count()).select_from(HistoryEntry))
    again = client.post(
        _wizard(august), data={**hidden_fields(client, _wizard(august)), "action": "apply"}
    )
    assert again.status_code == 400
    assert "Nie ma otwartego roku szkolnego" in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == written
    # The old year is still visible, to the office and to its teachers.
    assert client.get(f"/classes/{august.class_a.id}").status_code == 200


def test_a_closed_year_refuses_every_change_in_polish(august: World, session: Session) -> None:
    plan = make_rollover_plan(august.school, dt.date(2027, 8, 28), set())
    roll_over(Actor(august.school_admin, Channel.WEB), plan)
    session.commit()
    teacher = Actor(august.teacher, Channel.KIOSK)
    attempts: list[Callable[[], object]] = [
        lambda: set_topic(teacher, august.lesson, "Ułamki"),
        lambda: cancel_lesson(Actor(august.school_admin, Channel.WEB), august.lesson),
        lambda: record_grade(
            teacher,
            pupil=august.pupil,
            subject=august.math,
            value="5",
            category=august.test_category,
            given_on=august.lesson.date,
            lesson=august.lesson,
        ),
    ]
    for attempt in attempts:
        with pytest.raises(Refusal) as refused:
            attempt()
        session.rollback()
        assert refused.value.code == "year_closed"
        assert "2026/2027 jest zamknięty" in str(refused.value.message)


@operation
def _mark(actor: Actor, record: Attendance, code: str) -> None:
    """A roll's change of one pupil's attendance, as `submit_roll` writes it: no flush."""
    types = attendance_types(record.school_id)
    update_in_bulk(actor, [(record, {"type_id": types[code].id})])


def _attendance(world: World, code: str) -> Attendance:
    """The world's pupil's new attendance at its lesson, of the type `code`, not yet written."""
    return Attendance(
        school_id=world.school.id,
        lesson_id=world.lesson.id,
        pupil_id=world.pupil.id,
        type=attendance_types(world.school.id)[code],
    )


def test_a_closed_year_refuses_a_change_written_without_a_flush(
    august: World, session: Session
) -> None:
    teacher = Actor(august.teacher, Channel.KIOSK)
    record = _attendance(august, "ob")
    operation(lambda _actor: session.add(record))(teacher)
    _mark(teacher, record, "nb")  # while the year is open: changed, with its history
    session.commit()
    assert record.type.code == "nb" and record.version == 2
    roll_over(
        Actor(august.school_admin, Channel.WEB),
        make_rollover_plan(august.school, dt.date(2027, 8, 28), set()),
    )
    session.commit()
    written = session.scalar(select(func.count()).select_from(HistoryEntry))

    with pytest.raises(Refusal) as refused:
        _mark(teacher, record, "ob")
    session.rollback()
    assert refused.value.code == "year_closed"
    session.expire_all()
    assert (record.type.code, record.version) == ("nb", 2)
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == written


def test_before_the_year_ends_the_rollover_is_refused(office_world: World, login_as: Login) -> None:
    client = login_as(office_world.secretary)
    page = client.get(_wizard(office_world)).get_data(as_text=True)
    assert "trwa do 26.06.2027" in page and 'value="apply"' not in page
    fields = {"csrf_token": _csrf(client, office_world), "action": "apply"}
    assert client.post(_wizard(office_world), data=fields).status_code == 400


def test_after_the_rollover_imports_and_lists_use_the_coming_year(
    august: World, session: Session
) -> None:
    from ediary.office.imports.plan import current_year

    assert current_year(august.school, dt.date(2027, 8, 28)) == august.year
    roll_over(
        Actor(august.school_admin, Channel.WEB),
        make_rollover_plan(august.school, dt.date(2027, 8, 28), set()),
    )
    coming = current_year(august.school, dt.date(2027, 8, 28))
    assert coming is not None and coming.name == "2027/2028"


def test_a_register_changed_since_the_dry_run_is_shown_again(
    august: World, login_as: Login, session: Session
) -> None:
    client = login_as(august.secretary)
    fields = {**hidden_fields(client, _wizard(august)), "action": "apply"}
    enrol_pupil(Actor.system(Channel.CLI), august.class_b, "Nowy", "Uczeń")
    session.commit()
    stale = client.post(_wizard(august), data=fields)
    assert stale.status_code == 409
    shown = stale.get_data(as_text=True)
    assert "zmienili się od próby" in shown and "Uczeń Nowy" in shown
    session.refresh(august.year)
    assert august.year.closed_at is None


def test_the_new_year_starts_with_the_old_year_s_grading_rules(
    august: World, session: Session
) -> None:
    """Issue 14 item 5: the rollover copies the statute's rules; each year then keeps its own."""
    school, test = august.school, august.test_category

    def save(year: SchoolYear, weight: str) -> None:
        types = list(attendance_types(school.id).values())
        form = year_rules_form(school, year, **{f"weight-{test.id}": weight, "plus_value": "0.75"})
        change_grading_rules(
            Actor(august.school_admin, Channel.WEB),
            school,
            read_rules(form, categories(school), types),
            categories(school),
            types,
            base_version=int(form["version"]),
            year=year,
            today=dt.date(2027, 8, 28),
        )

    save(august.year, "4")
    plan = make_rollover_plan(school, dt.date(2027, 8, 28), set())
    new_year = roll_over(Actor(august.school_admin, Channel.WEB), plan).year
    session.commit()
    copied = rules_for_year(new_year)
    assert copied.category(test) == (4, True) and copied.plus_value == Decimal("0.75")
    assert copied.version == 1
    save(new_year, "2")
    session.commit()
    assert rules_for_year(new_year).category(test) == (2, True)
    assert rules_for_year(august.year).category(test) == (4, True)  # the old year keeps its own
    with pytest.raises(Refusal) as refused:  # and, closed, is only shown
        save(august.year, "5")
    assert refused.value.code == "year_closed"


def test_a_closed_year_refuses_new_rows_written_without_a_flush(
    august: World, session: Session
) -> None:
    """A first roll's new rows, as `submit_roll` writes them (`insert_many_audited`): refused in
    a closed year like a flush's, and nothing written."""
    teacher = Actor(august.teacher, Channel.KIOSK)
    roll_over(
        Actor(august.school_admin, Channel.WEB),
        make_rollover_plan(august.school, dt.date(2027, 8, 28), set()),
    )
    session.commit()
    written = session.scalar(select(func.count()).select_from(HistoryEntry))
    row = _attendance(august, "nb")

    with pytest.raises(Refusal) as refused:
        operation(lambda _actor: insert_many_audited([row]))(teacher)
    session.rollback()
    assert refused.value.code == "year_closed"
    assert "2026/2027 jest zamknięty" in str(refused.value.message)
    assert session.scalar(select(func.count()).select_from(Attendance)) == 0
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == written
