"""The behaviour grade (issue 15 item 5) as people use it: a teacher's opinion, the form tutor's
proposed and final grade, the director's correction after the council; and every refusal
(nothing changed), stale pages (a conflict shown), sending twice (harmless), ids out of scope.
The clock is pinned (tests/clock.py): 18 November 2026, in the first term."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.council.models import Behaviour, BehaviourGrade, BehaviourKind, BehaviourOpinion
from ediary.council.operations import give_opinion, set_behaviour
from ediary.db import db
from ediary.errors import Refusal
from ediary.people.models import User
from ediary.schools.models import Term
from tests.council.helpers import set_council
from tests.factories import SYSTEM, World
from tests.html import csrf_token, text

Login = Callable[[User], FlaskClient]


def _term(world: World) -> Term:
    return world.year.terms[0]


def _post(client: FlaskClient, path: str, **form: object) -> TestResponse:
    token = csrf_token(client, "/")
    return client.post(path, data={"csrf_token": token, **{k: str(v) for k, v in form.items()}})


def _read(response: TestResponse) -> str:
    return text(response.get_data(as_text=True))


def _opinions(world: World) -> list[BehaviourOpinion]:
    return list(db.session.scalars(select(BehaviourOpinion)))


def _grades(world: World) -> list[BehaviourGrade]:
    return list(db.session.scalars(select(BehaviourGrade).order_by(BehaviourGrade.id)))


def test_opinion_then_proposed_then_final_through_the_pages(world: World, login_as: Login) -> None:
    teacher = login_as(world.teacher)
    page = teacher.get(f"/council/classes/{world.class_a.id}/opinions")
    assert page.status_code == 200 and "Wiśniewska Zosia" in _read(page)
    sent = _post(teacher, f"/council/classes/{world.class_a.id}/opinions",
                 pupil=world.pupil.id, value="bardzo_dobre", text="Pomaga kolegom.")  # fmt: skip
    assert sent.status_code == 302
    [opinion] = _opinions(world)
    assert (opinion.value, opinion.text, opinion.teacher_id) == (
        Behaviour.VERY_GOOD,
        "Pomaga kolegom.",
        world.teacher.id,
    )

    tutor = login_as(world.tutor)
    board = tutor.get(f"/council/classes/{world.class_a.id}/behaviour")
    assert "Anna Nowak: bardzo dobre: Pomaga kolegom." in _read(board)
    path = f"/council/classes/{world.class_a.id}/behaviour"
    assert (
        _post(tutor, path, pupil=world.pupil.id, kind="proposed", value="bardzo_dobre").status_code
        == 302
    )
    assert (
        _post(tutor, path, pupil=world.pupil.id, kind="final", value="wzorowe").status_code == 302
    )
    proposed, final = _grades(world)
    assert (proposed.kind, proposed.value) == (BehaviourKind.PROPOSED, Behaviour.VERY_GOOD)
    assert (final.kind, final.value) == (BehaviourKind.FINAL, Behaviour.EXEMPLARY)
    # Named operations with history: who set it, through the web.
    rows = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "behaviour_grades")
    ).all()
    assert {r.actor_id for r in rows} == {world.tutor.id} and len(rows) == 2

    # The parent sees both on the portal.
    parent = login_as(world.parent)
    portal = _read(parent.get(f"/portal/{world.pupil.id}/behaviour"))
    assert "bardzo dobre" in portal and "wzorowe" in portal


@pytest.mark.parametrize("value", ["celujące", "", "wzorowe "])
def test_a_value_outside_the_six_is_refused_and_nothing_is_written(
    world: World, login_as: Login, value: str
) -> None:
    tutor = login_as(world.tutor)
    answer = _post(tutor, f"/council/classes/{world.class_a.id}/behaviour",
                   pupil=world.pupil.id, kind="proposed", value=value)  # fmt: skip
    assert answer.status_code == 400
    assert "Wybierz ocenę zachowania" in _read(answer)
    assert _grades(world) == []


def test_an_opinion_over_the_limit_is_refused_and_the_text_is_kept(
    world: World, login_as: Login
) -> None:
    teacher = login_as(world.teacher)
    long = "Bardzo długa opinia. " * 30
    answer = _post(teacher, f"/council/classes/{world.class_a.id}/opinions",
                   pupil=world.pupil.id, value="dobre", text=long)  # fmt: skip
    assert answer.status_code == 400
    assert "Opinia jest za długa" in _read(answer)
    assert long.strip() in answer.get_data(as_text=True)
    assert _opinions(world) == []


def test_after_the_council_only_the_director_corrects_with_a_reason(
    world: World, login_as: Login
) -> None:
    term = _term(world)
    tutor_actor = Actor(world.tutor, Channel.WEB)
    for kind in (BehaviourKind.PROPOSED, BehaviourKind.FINAL):
        set_behaviour(tutor_actor, world.pupil, term, kind=kind, value="dobre",
                      base_version=None, today=world.today)  # fmt: skip
    set_council(SYSTEM, term, world.today - dt.timedelta(days=1))
    db.session.commit()

    tutor = login_as(world.tutor)
    path = f"/council/classes/{world.class_a.id}/behaviour"
    locked = _post(tutor, path, pupil=world.pupil.id, kind="final", value="wzorowe", version=1)
    assert locked.status_code == 400
    assert "Rada klasyfikacyjna odbyła się 17.11.2026" in _read(locked)
    teacher = login_as(world.teacher)
    opinion = _post(teacher, f"/council/classes/{world.class_a.id}/opinions",
                    pupil=world.pupil.id, value="dobre", text="")  # fmt: skip
    assert opinion.status_code == 400

    director = login_as(world.school_admin)
    fix = f"{path}/correction"
    no_reason = _post(
        director, fix, pupil=world.pupil.id, value="bardzo_dobre", reason=" ", version=1
    )
    assert no_reason.status_code == 400
    done = _post(director, fix, pupil=world.pupil.id, value="bardzo_dobre",
                 reason="Pominięto udział w konkursie.", version=1)  # fmt: skip
    assert done.status_code == 302
    again = _post(director, fix, pupil=world.pupil.id, value="bardzo_dobre",
                  reason="Pominięto udział w konkursie.", version=1)  # fmt: skip
    assert again.status_code == 302  # sent twice: harmless
    final = db.session.scalar(select(BehaviourGrade).where(BehaviourGrade.kind == "final"))
    assert final is not None
    assert (final.value, final.correction_reason, final.version) == (
        Behaviour.VERY_GOOD,
        "Pominięto udział w konkursie.",
        2,
    )
    change = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "behaviour_grades", HistoryEntry.entity_id == final.id)
        .order_by(HistoryEntry.id.desc())
    ).first()
    assert change is not None and change.actor_id == world.school_admin.id
    # A later stale correction is a conflict, shown.
    stale = _post(director, fix, pupil=world.pupil.id, value="wzorowe", reason="Inny powód.",
                  version=1)  # fmt: skip
    assert stale.status_code == 409
    assert "Ktoś zmienił ten wpis" in _read(stale)


def test_a_teacher_not_teaching_the_class_finds_no_page_and_the_operation_refuses(
    world: World, login_as: Login
) -> None:
    other = login_as(world.other_teacher)
    path = f"/council/classes/{world.class_a.id}/opinions"
    assert other.get(path).status_code == 404
    assert _post(other, path, pupil=world.pupil.id, value="dobre").status_code == 404
    with pytest.raises(Refusal) as refused:
        give_opinion(Actor(world.other_teacher, Channel.WEB), world.pupil, _term(world),
                     value="dobre", text="", base_version=None, today=world.today)  # fmt: skip
    assert refused.value.code == "not_teaching"
    with pytest.raises(Refusal) as refused:
        set_behaviour(Actor(world.teacher, Channel.WEB), world.pupil, _term(world),
                      kind=BehaviourKind.PROPOSED, value="dobre", base_version=None,
                      today=world.today)  # fmt: skip
    assert refused.value.code == "not_tutor"
    assert _opinions(world) == [] and _grades(world) == []


@pytest.mark.parametrize("field", ["pupil", "term"])
@pytest.mark.parametrize("raw", ["foreign", str(2**63), str(2**31), "0", "x"])
def test_foreign_and_impossible_ids_in_the_form_are_missing(
    world: World, login_as: Login, field: str, raw: str
) -> None:
    foreign = {"pupil": world.pupil_b.id, "term": world.other_school and _other_term(world)}
    form = {"pupil": world.pupil.id, "kind": "proposed", "value": "dobre"}
    form[field] = foreign[field] if raw == "foreign" else raw
    tutor = login_as(world.tutor)
    answer = _post(tutor, f"/council/classes/{world.class_a.id}/behaviour", **form)
    assert answer.status_code == 404
    assert _grades(world) == []


def _other_term(world: World) -> int:
    term = db.session.scalar(select(Term).where(Term.school_id == world.other_school.id))
    assert term is not None
    return term.id


def test_urls_past_the_database_integer_are_missing(world: World, login_as: Login) -> None:
    tutor = login_as(world.tutor)
    for path in (f"/council/classes/{2**63}/behaviour", f"/council/classes/{2**64}/sheet.pdf"):
        assert tutor.get(path).status_code == 404
    assert tutor.get(f"/council/classes/{world.class_a.id}/sheet?term={2**63}").status_code == 404


def test_sending_twice_is_harmless_and_a_stale_page_is_a_conflict(
    world: World, login_as: Login
) -> None:
    teacher = login_as(world.teacher)
    path = f"/council/classes/{world.class_a.id}/opinions"
    for _ in range(2):
        sent = _post(teacher, path, pupil=world.pupil.id, value="dobre", text="Spokojna.")
        assert sent.status_code == 302
    [opinion] = _opinions(world)
    assert opinion.version == 1
    changed = _post(teacher, path, pupil=world.pupil.id, value="poprawne", text="Rozmawia.",
                    version=1)  # fmt: skip
    assert changed.status_code == 302
    stale = _post(teacher, path, pupil=world.pupil.id, value="naganne", text="Bije.", version=1)
    assert stale.status_code == 409
    assert "Ktoś zmienił ten wpis" in _read(stale)
    db.session.refresh(opinion)
    assert (opinion.value, opinion.text, opinion.version) == (Behaviour.CORRECT, "Rozmawia.", 2)

    tutor = login_as(world.tutor)
    board = f"/council/classes/{world.class_a.id}/behaviour"
    for _ in range(2):
        sent = _post(tutor, board, pupil=world.pupil.id, kind="proposed", value="dobre")
        assert sent.status_code == 302
    assert len(_grades(world)) == 1
    # Another tab that showed no grade yet: a conflict, the grade stays.
    stale = _post(tutor, board, pupil=world.pupil.id, kind="proposed", value="naganne")
    assert stale.status_code == 409
    assert [g.value for g in _grades(world)] == [Behaviour.GOOD]
    count = db.session.scalar(
        select(func.count())
        .select_from(HistoryEntry)
        .where(HistoryEntry.entity == "behaviour_grades")
    )
    assert count == 1


def test_the_final_grade_needs_the_proposed_one_first(world: World, login_as: Login) -> None:
    tutor = login_as(world.tutor)
    answer = _post(tutor, f"/council/classes/{world.class_a.id}/behaviour",
                   pupil=world.pupil.id, kind="final", value="dobre")  # fmt: skip
    assert answer.status_code == 400
    assert "Najpierw wystaw przewidywaną" in _read(answer)
    assert _grades(world) == []
