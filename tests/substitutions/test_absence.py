"""A teacher absent for a range of days (issue 14 item 3): the planning page of every school day
of the range, saving a day or all of it in one commit, merging a group into another group's
lesson, and the refusals (a reversed or too long range, outside the school year, a foreign
teacher or lesson, ids past 2^63, another director's change meanwhile)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.diary.operations import submit_roll
from ediary.errors import Conflict, Refusal
from ediary.people.models import Role, User
from ediary.schools.models import DayOff, Pupil
from ediary.schools.operations import add_to_group, enrol_pupil
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.operations import cancel_lesson, merge_lesson, substitute_lesson
from ediary.timetable.queries import (
    lesson_now,
    on_roster_of_joined_lesson,
    roster,
    roster_pupil,
)
from tests import factories
from tests.events import capture_events
from tests.factories import SYSTEM, World
from tests.html import csrf_token, text
from tests.substitutions.groups import make_groups

Login = Callable[[User], FlaskClient]
BIG = 2**63


def _admin(world: World) -> Actor:
    return Actor(world.school_admin, Channel.WEB)


def test_a_group_merged_into_the_other_groups_lesson(world: World, session: Session) -> None:
    groups = make_groups(world)
    captured = capture_events(
        lambda: merge_lesson(_admin(world), groups.ours, groups.theirs), "lesson.substituted"
    )
    (event,) = captured.events
    assert event.audience_id == world.class_a.id
    assert event.payload["merged"] is True
    assert event.payload["merged_with"] == "5a ang. gr. 2, język angielski, 7"
    assert event.payload["teacher"] == world.other_teacher.full_name
    assert (groups.ours.status, groups.ours.merged_into_id) == (
        LessonStatus.CANCELLED,
        groups.theirs.id,
    )
    change = session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.entity == "lessons", HistoryEntry.entity_id == groups.ours.id
        )
    ).all()[-1]
    assert change.new is not None and change.new["merged_into_id"] == groups.theirs.id
    # The kiosk in the absent teacher's room has no lesson to open for it...
    assert lesson_now(world.room.id, world.teacher.id, groups.ours.starts_at) is None
    # ...and the other teacher's roll covers both groups; attendance goes on the lesson held.
    assert [p.id for p in roster(groups.theirs)] == [world.classmate.id, world.pupil.id]
    # A pupil of 5a in neither group sits in neither lesson, merged or not.
    neither = enrol_pupil(SYSTEM, world.class_a, "Ida", "Nowak")
    assert neither.id not in {p.id for p in roster(groups.theirs)}
    assert roster_pupil(groups.theirs, neither.id) is None
    # One pupil of it, as a kiosk's remark or grade asks: the merged group's pupil is on it.
    assert roster_pupil(groups.theirs, world.pupil.id) is world.pupil
    assert roster_pupil(groups.theirs, world.classmate.id) is world.classmate
    # The merged lesson's own roster is its group only; nobody sits in it any more.
    assert roster_pupil(groups.ours, world.classmate.id) is None
    assert roster_pupil(groups.theirs, 2**31 - 1) is None  # kiosk ids are 32-bit (schema)
    # The same rosters as a kiosk entry reads its pupil: in the statement that reads its lesson.
    for lesson in (groups.theirs, groups.ours, world.lesson):
        joined = (
            select(Pupil.id)
            .join(Lesson, Lesson.id == lesson.id)
            .where(on_roster_of_joined_lesson())
        )
        assert set(session.scalars(joined)) == {p.id for p in roster(lesson)}, lesson.id
    submit_roll(
        Actor(world.other_teacher, Channel.WEB),
        groups.theirs,
        {world.pupil.id: "nb", world.classmate.id: "ob"},
        base=None,
    )
    # Merged again into the same lesson: nothing changes, nothing is published.
    capture_events(lambda: merge_lesson(_admin(world), groups.ours, groups.theirs))
    # The lesson the group joined cannot be cancelled from under it.
    with pytest.raises(Refusal, match="lesson_has_merged"):
        cancel_lesson(_admin(world), groups.theirs)


def test_a_merge_that_puts_a_pupil_twice_or_into_a_cancelled_lesson_is_refused(
    world: World, session: Session
) -> None:
    groups = make_groups(world)
    add_to_group(SYSTEM, groups.two, world.pupil)

    def refused(code: str, into: Lesson) -> None:
        def attempt() -> None:
            with pytest.raises(Refusal, match=code):
                merge_lesson(_admin(world), groups.ours, into)

        capture_events(attempt)

    refused("merge_pupil_twice", groups.theirs)
    cancel_lesson(_admin(world), groups.theirs)
    refused("merge_cancelled", groups.theirs)
    refused("merge_other_time", world.lesson)  # lesson 1, not lesson 2
    refused("merge_itself", groups.ours)
    assert groups.ours.status is LessonStatus.PLANNED and groups.ours.merged_into_id is None


def _monday(world: World) -> dt.date:
    """Next week's Monday: a range over a weekend and a day off, whatever today is."""
    return world.today + dt.timedelta(days=7 - world.today.weekday())


def _range_url(world: World, first: dt.date, last: dt.date, teacher: User | None = None) -> str:
    who = (teacher or world.teacher).id
    return (
        f"/schools/{world.school.id}/substitutions/absence?teacher={who}"
        f"&from={first.isoformat()}&to={last.isoformat()}&reason=L4"
    )


def _save(client: FlaskClient, world: World, fields: dict[str, str]) -> TestResponse:
    return client.post(
        f"/schools/{world.school.id}/substitutions/absence",
        data={"csrf_token": csrf_token(client), "teacher": str(world.teacher.id)} | fields,
    )


def test_a_range_lists_each_school_day_with_proposals_and_saves_in_one_go(
    world: World, session: Session, login_as: Login
) -> None:
    monday = _monday(world)
    tuesday, wednesday, thursday = (monday + dt.timedelta(days=n) for n in (1, 2, 3))
    friday = monday - dt.timedelta(days=3)
    lessons = {
        day: factories.make_lesson(
            world.school, world.class_a, world.math, world.teacher, world.room, day
        )
        for day in (friday, monday, tuesday, wednesday)
    }
    factories._add(SYSTEM, DayOff(school_id=world.school.id, date=tuesday, reason="Dyrektorski"))
    groups = make_groups(world, wednesday)
    session.commit()
    client = login_as(world.school_admin)
    page = client.get(_range_url(world, friday, thursday))
    shown = text(page.get_data(as_text=True))
    assert page.status_code == 200
    # Friday, Monday and Wednesday: the weekend and Tuesday's day off are skipped.
    assert friday.isoformat() in shown and monday.isoformat() in shown
    assert f"{tuesday.isoformat()} (wtorek)" not in shown
    assert "Zapisz dzień " + wednesday.isoformat() in shown
    assert "Połącz z grupą: 5a ang. gr. 2, język angielski, sala 7" in shown
    assert "(L4)" in shown  # the reason the director gave

    html = page.get_data(as_text=True)
    # The form starts with the proposals: the best free teacher, the merge where nobody is free.
    fields = {
        f"choice-{lesson.id}": f"t{world.other_teacher.id}" for lesson in lessons.values()
    } | {f"version-{lesson.id}": str(lesson.version) for lesson in lessons.values()}
    assert f'name="choice-{lessons[friday].id}"' in html
    fields |= {
        f"choice-{lessons[friday].id}": "cancel",
        f"choice-{groups.ours.id}": f"m{groups.theirs.id}",
        f"version-{groups.ours.id}": str(groups.ours.version),
        "from": friday.isoformat(),
        "to": thursday.isoformat(),
    }
    # Only one day first: Friday is cancelled, nothing else moves.
    day = capture_events(
        lambda: _save(client, world, fields | {"day": friday.isoformat()}), "lesson.cancelled"
    )
    assert day.result.status_code == 302
    assert "/substitutions/absence?" in day.result.headers["Location"]
    session.expire_all()
    assert lessons[friday].status is LessonStatus.CANCELLED
    assert lessons[monday].teacher_id == world.teacher.id

    # Then the whole range: the rest in one commit (Friday again is harmless).
    fields[f"version-{lessons[friday].id}"] = str(lessons[friday].version)
    everything = capture_events(
        lambda: _save(client, world, fields | {"day": ""}),
        "lesson.substituted",
        "lesson.substituted",
        "lesson.substituted",
    )
    assert everything.result.status_code == 302
    session.expire_all()
    assert lessons[monday].teacher_id == world.other_teacher.id
    assert lessons[wednesday].teacher_id == world.other_teacher.id
    assert groups.ours.merged_into_id == groups.theirs.id
    after = text(client.get(everything.result.headers["Location"]).get_data(as_text=True))
    assert "Zapisano 4 lekcji." in after
    assert "Połączona z inną grupą." in after
    # Sent twice (a double click): every choice is what the lesson has now, nothing happens.
    twice = capture_events(lambda: _save(client, world, fields | {"day": ""}))
    assert twice.result.status_code == 302
    staff_room = client.get(f"/schools/{world.school.id}/substitutions/day?date={wednesday}")
    assert "połączona z grupą: Ewa Zielinska" in text(staff_room.get_data(as_text=True))


def test_two_directors_planning_at_once_conflict_visibly(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    seen = world.lesson.version
    # Meanwhile the other director substitutes Jan Kowalski.
    substitute_lesson(_admin(world), world.lesson, world.tutor)
    session.commit()
    response = _save(
        client,
        world,
        {
            f"choice-{world.lesson.id}": f"t{world.other_teacher.id}",
            f"version-{world.lesson.id}": str(seen),
        },
    )
    assert response.status_code == 409
    shown = text(response.get_data(as_text=True))
    assert "lekcja nr 1 (matematyka): Lekcja zmieniła się od wczytania strony." in shown
    session.expire_all()
    assert world.lesson.teacher_id == world.tutor.id  # not overwritten
    # The page shows what is there now, with the person's choice kept to save again.
    assert f'<option value="t{world.other_teacher.id}" selected>' in response.get_data(True)


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (3, 1, "Data „do” jest wcześniejsza niż data „od”."),
        (0, 50, "Najwyżej 30 dni nauki naraz"),
        (400, 401, "Nieobecność musi mieścić się w roku szkolnym."),
        (-400, -399, "Nieobecność musi mieścić się w roku szkolnym."),
    ],
)
def test_a_bad_range_is_refused_in_polish_keeping_the_input(
    world: World, session: Session, login_as: Login, first: int, last: int, message: str
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    start, end = (world.today + dt.timedelta(days=n) for n in (first, last))
    response = client.get(_range_url(world, start, end))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in text(html)
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html
    saved = _save(client, world, {"from": start.isoformat(), "to": end.isoformat()})
    assert saved.status_code == 400 and message in text(saved.get_data(as_text=True))
    garbled = client.get(f"/schools/{world.school.id}/substitutions/absence?from=2026-13-45")
    assert garbled.status_code == 400 and "Nieprawidłowa data." in text(garbled.get_data(True))


def test_foreign_and_huge_ids_are_not_found(
    world: World, session: Session, login_as: Login
) -> None:
    foreign = factories.make_lesson(
        world.other_school,
        world.class_other_school,
        factories.make_subject(world.other_school, "historia", "his"),
        factories.make_user("obcy_nauczyciel", Role.TEACHER, school=world.other_school),
        factories.make_room(world.other_school, "1"),
        world.today,
    )
    session.commit()
    client = login_as(world.school_admin)
    base = f"/schools/{world.school.id}/substitutions/absence"
    assert client.get(f"{base}?teacher={BIG}").status_code == 404
    assert client.get(f"{base}?teacher={world.secretary.id}").status_code == 404
    choice, version = f"choice-{world.lesson.id}", f"version-{world.lesson.id}"
    shown = str(world.lesson.version)
    for value in (f"t{BIG}", f"m{BIG}", f"m{foreign.id}", f"t{world.parent.id}", "x1"):
        assert _save(client, world, {choice: value, version: shown}).status_code == 404, value
    # Without the version the page showed (or one past 2^63): not a form of this page.
    for seen in ("", str(BIG)):
        assert _save(client, world, {choice: "cancel", version: seen}).status_code == 404
    response = client.post(
        base, data={"csrf_token": csrf_token(client), "teacher": str(BIG), choice: "cancel"}
    )
    assert response.status_code == 404
    assert _save(client, world, {"day": "2026-02-30"}).status_code == 404
    other = login_as(world.other_school_admin)
    assert other.get(f"{base}?teacher={world.teacher.id}").status_code == 404
    session.expire_all()
    assert world.lesson.status is LessonStatus.PLANNED


def test_stale_merge_after_a_substitution_is_a_conflict(world: World, session: Session) -> None:
    groups = make_groups(world)
    seen = groups.ours.version
    substitute_lesson(_admin(world), groups.ours, world.tutor)
    with pytest.raises(Conflict):
        merge_lesson(_admin(world), groups.ours, groups.theirs, base_version=seen)
