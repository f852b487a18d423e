"""Parents acknowledge the proposed behaviour grade as they do the proposed subject grades: it is
on the same page ("Oceny przewidywane"), one "Zapoznałem się / Zapoznałam się" covers both, and
the form tutor sees it beside the subject proposals with who acknowledged and when. The clock is
pinned (tests/clock.py): 18 November 2026, in the first term."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.classification.models import ProposalAcknowledgement
from ediary.council.models import BehaviourKind
from ediary.council.operations import set_behaviour
from ediary.db import db
from ediary.diary.models import GradeKind
from ediary.people.models import User
from tests.factories import World
from tests.html import hidden_fields, text

Login = Callable[[User], FlaskClient]


def _page(world: World) -> str:
    return f"/portal/{world.pupil.id}/classification"


def _acknowledgements() -> list[ProposalAcknowledgement]:
    return list(db.session.scalars(select(ProposalAcknowledgement)))


def test_nothing_proposed_yet_nothing_to_acknowledge(world: World, login_as: Login) -> None:
    parent = login_as(world.parent)
    page = text(parent.get(_page(world)).get_data(as_text=True))
    assert "Nie ma jeszcze ocen przewidywanych." in page
    assert "Zapoznałem się" not in page
    fields = hidden_fields(parent, _page(world))
    sent = parent.post(f"{_page(world)}/acknowledge", data=fields)
    assert sent.status_code == 400
    assert "Nie ma jeszcze ocen przewidywanych." in text(sent.get_data(as_text=True))
    assert _acknowledgements() == []


def test_the_proposed_behaviour_grade_alone_is_shown_and_acknowledged_once(
    world: World, login_as: Login
) -> None:
    term = world.year.terms[0]
    set_behaviour(Actor(world.tutor, Channel.WEB), world.pupil, term,
                  kind=BehaviourKind.PROPOSED, value="bardzo_dobre", base_version=None,
                  today=world.today)  # fmt: skip
    db.session.commit()

    parent = login_as(world.parent)
    page = text(parent.get(_page(world)).get_data(as_text=True))
    assert "Zachowanie bardzo dobre –" in page  # proposed; the council's grade not yet
    fields = hidden_fields(parent, _page(world))
    for _ in range(2):  # pressed twice
        assert parent.post(f"{_page(world)}/acknowledge", data=fields).status_code == 302
    [ack] = _acknowledgements()
    assert (ack.guardian_id, ack.pupil_id, ack.term_id, ack.kind) == (
        world.parent.id,
        world.pupil.id,
        term.id,
        GradeKind.PROPOSED_TERM,
    )
    after = text(parent.get(_page(world)).get_data(as_text=True))
    assert "Zapoznano się z ocenami przewidywanymi" in after

    # The form tutor sees the proposed behaviour grade and the acknowledgement's time.
    tutor = login_as(world.tutor)
    listed = text(tutor.get(f"/tutor/classes/{world.class_a.id}").get_data(as_text=True))
    assert "Zachowanie (przewidywane)" in listed
    assert "bardzo dobre Maria Wisniewska 18.11.2026" in listed

    # The council's final grade appears beside the proposal.
    set_behaviour(Actor(world.tutor, Channel.WEB), world.pupil, term,
                  kind=BehaviourKind.FINAL, value="wzorowe", base_version=None,
                  today=world.today)  # fmt: skip
    db.session.commit()
    parent = login_as(world.parent)
    page = text(parent.get(_page(world)).get_data(as_text=True))
    assert "Zachowanie bardzo dobre wzorowe" in page
