"""What the classification tests share: the world's first term with a council date, a cell."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.classification.operations import (
    calendar_state,
    set_classification_grade,
    set_council_calendar,
)
from ediary.db import db
from ediary.diary.models import Grade, GradeKind
from ediary.schools.models import Pupil, Term
from tests.factories import World
from tests.gradebook.helpers import assignment_of

# The world's year starts 1 September 2026; term 1 ends on 31 January 2027. The pinned clock
# (tests/clock.py) is 18 November 2026.
COUNCIL = dt.date(2027, 1, 20)
FAILING_DEADLINE = COUNCIL - dt.timedelta(days=30)  # 21 December 2026
OTHER_DEADLINE = COUNCIL - dt.timedelta(days=7)  # 13 January 2027


def terms(world: World) -> list[Term]:
    query = select(Term).where(Term.year_id == world.year.id).order_by(Term.number)
    return list(db.session.scalars(query))


def set_council(world: World, council_on: dt.date | None = COUNCIL) -> Term:
    """The director sets term 1's council (the defaults: 30 and 7 days before)."""
    all_terms = terms(world)
    set_council_calendar(
        Actor(world.school_admin, Channel.WEB),
        world.school,
        councils={all_terms[0]: council_on},
        failing_days=30,
        other_days=7,
        seen=calendar_state(world.school, [all_terms[0]]),
    )
    return all_terms[0]


def give(
    world: World,
    pupil: Pupil,
    text: str,
    *,
    kind: GradeKind = GradeKind.PROPOSED_TERM,
    today: dt.date,
    seen: Grade | None = None,
    term: Term | None = None,
) -> Grade | None:
    return set_classification_grade(
        Actor(world.teacher, Channel.WEB),
        assignment_of(world),
        term or terms(world)[0],
        pupil,
        kind,
        text,
        seen_grade_id=seen.id if seen else None,
        seen_version=seen.version if seen else None,
        today=today,
    )
