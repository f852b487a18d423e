"""The classification pages in-process: the teacher's sheet (a row, everything, a stale page, a
locked term, a bad value kept with its message), the parent's page and acknowledgement (double
submit = one row, another family's child 404), the tutor's list, the director's calendar and
correction (everyone else 404). The clock is pinned (tests/clock.py): 18 November 2026."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel
from ediary.classification.models import GradeCorrection, ProposalAcknowledgement
from ediary.classification.operations import current_grade
from ediary.diary.models import GradeKind
from ediary.people.models import User
from ediary.timetable.operations import substitute
from tests.classification.helpers import COUNCIL, give, set_council, terms
from tests.factories import World
from tests.html import hidden_fields, text
from tests.test_access_matrix import ACTORS

Login = Callable[[User], FlaskClient]
TODAY = dt.date(2026, 11, 18)


@pytest.fixture(autouse=True)
def _committed(world: World, session: Session) -> None:
    """The world as a page's transaction finds it (a refused page rolls its own back)."""
    session.commit()


def _value_of(pupil_id: int, subject_id: int, term_id: int, kind: GradeKind) -> str | None:
    grade = current_grade(pupil_id, subject_id, term_id, kind)
    return None if grade is None else grade.value


def _sheet(world: World) -> str:
    return f"/classification/{world.class_a.id}/{world.math.id}"


def _form(client: FlaskClient, world: World, **typed: str) -> dict[str, object]:
    fields: dict[str, object] = dict(hidden_fields(client, _sheet(world)))
    fields["pupil"] = [str(world.classmate.id), str(world.pupil.id)]
    for pupil in (world.pupil, world.classmate):
        for kind in ("proposed_term", "term"):
            key = f"{kind}-{pupil.id}"
            fields[key] = typed.get(key, "")
    return fields


def _proposed(world: World, pupil_id: int | None = None) -> str:
    return f"proposed_term-{pupil_id or world.pupil.id}"


def test_the_sheet_shows_average_attendance_and_saves_a_row(
    world: World, session: Session, login_as: Login
) -> None:
    client = login_as(world.teacher)
    page = client.get(_sheet(world))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Wiśniewska Zosia" in text(html) and "Ocena przewidywana" in html
    assert "Dyrektor nie ustalił jeszcze daty rady" in text(html)
    # Only the pressed row is saved: the classmate's typed value is not.
    form = _form(
        client, world, **{_proposed(world): "4", _proposed(world, world.classmate.id): "5"}
    )
    form["row"] = str(world.pupil.id)
    saved = client.post(_sheet(world), data=form)
    assert saved.status_code == 302
    first_term = terms(world)[0]
    assert _value_of(world.pupil.id, world.math.id, first_term.id, GradeKind.PROPOSED_TERM) == "4"
    assert (
        current_grade(world.classmate.id, world.math.id, first_term.id, GradeKind.PROPOSED_TERM)
        is None
    )
    assert "Zapisano zmienione oceny: 1." in text(client.get(saved.location).get_data(as_text=True))


def test_save_all_and_a_bad_value_keeps_what_was_typed(
    world: World, session: Session, login_as: Login
) -> None:
    client = login_as(world.teacher)
    form = _form(
        client, world, **{_proposed(world): "4+", _proposed(world, world.classmate.id): "5"}
    )
    refused = client.post(_sheet(world), data=form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Nie zapisano: popraw zaznaczone oceny." in text(html)
    assert "1-6 (bez + i -)" in text(html)
    assert 'value="4+"' in html and 'value="5"' in html  # both typed values are still there
    first_term = terms(world)[0]
    assert (
        current_grade(world.classmate.id, world.math.id, first_term.id, GradeKind.PROPOSED_TERM)
        is None
    )
    form = _form(
        client, world, **{_proposed(world): "4", _proposed(world, world.classmate.id): "5"}
    )
    assert client.post(_sheet(world), data=form).status_code == 302
    assert (
        _value_of(world.classmate.id, world.math.id, first_term.id, GradeKind.PROPOSED_TERM) == "5"
    )


def test_a_stale_page_is_a_conflict_shown_with_the_current_value(
    world: World, session: Session, login_as: Login
) -> None:
    client = login_as(world.teacher)
    stale = _form(client, world, **{_proposed(world): "5"})  # the page showed no proposal
    give(world, world.pupil, "3", today=TODAY)  # meanwhile, another tab
    session.commit()
    answer = client.post(_sheet(world), data=stale)
    assert answer.status_code == 409
    page = text(answer.get_data(as_text=True))
    assert "ktoś zmienił oceny w międzyczasie" in page and "Teraz: 3." in page
    first_term = terms(world)[0]
    assert _value_of(world.pupil.id, world.math.id, first_term.id, GradeKind.PROPOSED_TERM) == "3"


def test_the_start_page_shows_the_next_proposal_deadline(
    world: World, session: Session, login_as: Login
) -> None:
    client = login_as(world.teacher)
    assert "propozycje ocen do" not in text(client.get("/").get_data(as_text=True))
    set_council(world)
    session.commit()
    home = text(client.get("/").get_data(as_text=True))
    assert "klasyfikacja propozycje ocen do 21.12" in home  # the failing grade's, 30 days ahead


def test_a_locked_term_refuses_the_teacher_in_polish(
    world: World, session: Session, login_as: Login, time_machine: object
) -> None:
    set_council(world)
    give(world, world.pupil, "4", kind=GradeKind.TERM, today=TODAY)
    session.commit()
    time_machine.move_to(dt.datetime(2027, 1, 21, 10, tzinfo=dt.UTC), tick=True)  # type: ignore[attr-defined]
    client = login_as(world.teacher)
    page = client.get(_sheet(world)).get_data(as_text=True)
    assert "oceny są zamknięte" in text(page)
    form = _form(client, world, **{f"term-{world.pupil.id}": "5"})
    answer = client.post(_sheet(world), data=form)
    assert answer.status_code == 400
    assert "rada klasyfikacyjna odbyła się 20 stycznia 2027" in text(answer.get_data(as_text=True))
    first_term = terms(world)[0]
    assert _value_of(world.pupil.id, world.math.id, first_term.id, GradeKind.TERM) == "4"


def test_a_late_proposal_is_saved_with_a_warning(
    world: World, session: Session, login_as: Login, time_machine: object
) -> None:
    set_council(world)
    session.commit()
    time_machine.move_to(dt.datetime(2026, 12, 28, 10, tzinfo=dt.UTC), tick=True)  # type: ignore[attr-defined]
    client = login_as(world.teacher)
    answer = client.post(_sheet(world), data=_form(client, world, **{_proposed(world): "1"}))
    assert answer.status_code == 302
    page = text(client.get(answer.location).get_data(as_text=True))
    assert "propozycja wystawiona po terminie" in page and "Zosia Wiśniewska" in page
    assert "po terminie" in page


@pytest.mark.parametrize("actor", ACTORS)
def test_a_substitute_and_everyone_but_the_teacher_find_no_sheet(
    world: World, session: Session, client: FlaskClient, login_as: Login, actor: str
) -> None:
    """The other teacher substitutes the 5a lesson: still no classification sheet for them."""
    substitute(Actor(world.school_admin, Channel.WEB), world.lesson, world.other_teacher)
    session.commit()
    if actor != "anonymous":
        login_as(getattr(world, actor))
    status = client.get(_sheet(world)).status_code
    assert status == {"teacher": 200, "anonymous": 302}.get(actor, 404)


def test_ids_past_the_database_are_missing(world: World, session: Session, login_as: Login) -> None:
    client = login_as(world.teacher)
    assert client.get(f"{_sheet(world)}?term={2**63}").status_code == 404
    assert client.get(f"/classification/{2**63}/{world.math.id}").status_code == 404
    form = _form(client, world)
    form["pupil"] = [str(2**63)]
    assert client.post(_sheet(world), data=form).status_code == 404
    form["pupil"] = [str(world.pupil_b.id)]  # a pupil of 5b on the 5a sheet
    assert client.post(_sheet(world), data=form).status_code == 404


def test_the_parent_sees_proposals_and_acknowledges_once(
    world: World, session: Session, login_as: Login, client: FlaskClient
) -> None:
    give(world, world.pupil, "5", today=TODAY)
    session.commit()
    parent = login_as(world.parent)
    page = parent.get(f"/portal/{world.pupil.id}/classification")
    assert page.status_code == 200
    assert "matematyka 5 (bardzo dobry)" in text(page.get_data(as_text=True))
    fields = hidden_fields(parent, f"/portal/{world.pupil.id}/classification")
    for _ in range(2):  # pressed twice
        sent = parent.post(f"/portal/{world.pupil.id}/classification/acknowledge", data=fields)
        assert sent.status_code == 302
    count = session.scalar(select(func.count()).select_from(ProposalAcknowledgement))
    assert count == 1
    after = text(parent.get(f"/portal/{world.pupil.id}/classification").get_data(as_text=True))
    assert "Zapoznano się z ocenami przewidywanymi" in after
    # The parent's copy of the school's data about the child holds it (right of access).
    dump = parent.get("/my-data.json").get_json()
    child = next(c for c in dump["children"] if c["particulars"]["id"] == world.pupil.id)
    assert [a["guardian_id"] for a in child["proposal_acknowledgements"]] == [world.parent.id]
    # Another family's child: the same 404 as a missing one.
    other = login_as(world.other_parent)
    assert other.get(f"/portal/{world.pupil.id}/classification").status_code == 404
    assert (
        other.post(f"/portal/{world.pupil.id}/classification/acknowledge", data=fields).status_code
        == 404
    )
    # The form tutor sees who acknowledged and when.
    tutor = login_as(world.tutor)
    listed = text(tutor.get(f"/tutor/classes/{world.class_a.id}").get_data(as_text=True))
    assert "zapoznanie rodziców" in listed and "Maria Wisniewska" in listed


def test_the_director_sets_the_calendar_and_corrects_a_final_grade(
    world: World, session: Session, login_as: Login
) -> None:
    director = login_as(world.school_admin)
    calendar = f"/classification/schools/{world.school.id}"
    school_page = director.get(f"/schools/{world.school.id}").get_data(as_text=True)
    assert calendar in school_page
    fields = dict(hidden_fields(director, calendar))
    first_term = terms(world)[0]
    fields.update(
        {f"council_{first_term.id}": COUNCIL.isoformat(), "failing_days": "28", "other_days": "10"}
    )
    assert director.post(calendar, data=fields).status_code == 302
    session.expire_all()
    assert first_term.council_on == COUNCIL and world.school.failing_proposal_days == 28
    assert director.post(calendar, data=fields).status_code == 302  # sent twice: no change
    fields["failing_days"] = "29"  # another change from the page the first one came from
    stale = director.post(calendar, data=fields)
    assert stale.status_code == 409
    assert "Ktoś zmienił terminy w międzyczasie" in text(stale.get_data(as_text=True))
    assert 'value="29"' in stale.get_data(as_text=True)  # what the director typed stays

    final = give(world, world.pupil, "2", kind=GradeKind.TERM, today=TODAY)
    assert final is not None
    session.commit()
    finals = director.get(f"/classification/classes/{world.class_a.id}/finals").get_data(
        as_text=True
    )
    correction = f"/classification/grades/{final.id}/correction"
    assert correction in finals
    form = dict(hidden_fields(director, correction))
    form.update({"value": "3", "reason": ""})
    refused = director.post(correction, data=form)
    assert refused.status_code == 400 and "Podaj uzasadnienie korekty." in text(
        refused.get_data(as_text=True)
    )
    form["reason"] = "Błąd przy przepisywaniu z arkusza."
    assert director.post(correction, data=form).status_code == 302
    assert director.post(correction, data=form).status_code == 302  # sent twice: done once
    assert session.scalar(select(func.count()).select_from(GradeCorrection)) == 1
    assert session.scalar(select(GradeCorrection.reason)) == "Błąd przy przepisywaniu z arkusza."
    for outsider in (
        world.teacher,
        world.tutor,
        world.secretary,
        world.other_school_admin,
        world.parent,
    ):
        assert login_as(outsider).get(correction).status_code == 404
