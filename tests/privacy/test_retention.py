"""Retention (issue 17 item 5): pupils who left more than 5 years ago are pseudonymised with
history; those still within the period are not; a second run finds nothing to do."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.privacy import retention
from ediary.schools.models import Guardianship
from tests.factories import World

TODAY = dt.date(2032, 9, 1)


def _left(world: World) -> None:
    _record_leaving(Actor.system(), world)


@operation
def _record_leaving(actor: Actor, world: World) -> None:
    world.pupil.left_on = dt.date(2027, 6, 26)  # more than 5 years before TODAY
    world.pupil.pesel = "12271412345"
    world.pupil.address = "ul. Długa 1, Mirzec"
    world.pupil.birth_place = "Starachowice"
    world.pupil_b.left_on = dt.date(2027, 9, 2)  # within 5 years: kept


def test_due_pupils_are_pseudonymised_with_history_and_a_second_run_changes_nothing(
    world: World,
) -> None:
    _left(world)
    assert retention.due(TODAY) == [world.pupil]
    first = world.pupil.first_name
    before = db.session.scalar(select(HistoryEntry.id).order_by(HistoryEntry.id.desc()).limit(1))
    unlinked = retention.pseudonymise(Actor.system(), world.pupil)
    assert unlinked == 1  # Maria, the parent
    db.session.commit()  # the unlinking is declared: the parent's open pages lose the child
    assert f"{world.pupil.first_name} {world.pupil.last_name}" == f"Uczeń #{world.pupil.id}"
    assert (world.pupil.pesel, world.pupil.address, world.pupil.birth_place) == (None,) * 3
    assert not db.session.scalars(
        select(Guardianship).where(Guardianship.pupil_id == world.pupil.id)
    ).all()
    changes = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.id > (before or 0)).order_by(HistoryEntry.id)
    ).all()
    pupil_change = next(c for c in changes if c.entity == "pupils")
    assert pupil_change.old is not None and pupil_change.old["first_name"] == first
    assert any(c.entity == "guardianships" and c.action == "delete" for c in changes)
    assert retention.due(TODAY) == []  # the second run has nothing to do
    assert world.pupil_b.first_name != retention.PSEUDONYM_FIRST


def test_the_period_is_a_setting(world: World) -> None:
    _left(world)
    assert retention.due(TODAY, years=10) == []
    assert retention.due(TODAY, years=4) == [world.pupil, world.pupil_b]
    assert retention.cutoff(dt.date(2032, 2, 29), 5) == dt.date(2027, 2, 27)
