"""The demo's classification calendar (issue 15 item 5): in every school the current term's
council is set so that the first proposals (a failing grade, the statute's 30 days before the
council) are due next week, and the others (7 days before) a few weeks later. `nauczyciel1`'s
classification pages then show real deadlines; `dyrektor1` sees and changes them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.schools.models import School, SchoolYear, Term
from ediary.schools.queries import current_term


def council_for(today: dt.date, failing_days: int, year_ends: dt.date) -> dt.date:
    """Wednesday of next week plus the failing grade's notice, kept inside the school year."""
    next_wednesday = today + dt.timedelta(days=7 - today.weekday() + 2)
    return min(next_wednesday + dt.timedelta(days=failing_days), year_ends)


@operation
def _set(actor: Actor, term: Term, council_on: dt.date) -> None:
    term.council_on = council_on


def seed_councils(today: dt.date) -> int:
    """Sets the current term's council in every school; returns how many were set."""
    count = 0
    for school in db.session.scalars(select(School).order_by(School.id)):
        terms = list(
            db.session.scalars(
                select(Term)
                .join(SchoolYear, SchoolYear.id == Term.year_id)
                .where(SchoolYear.school_id == school.id, SchoolYear.closed_at.is_(None))
                .order_by(Term.starts_on)
            )
        )
        if not terms:
            continue
        term = current_term(terms, today)
        _set(
            Actor.system(Channel.IMPORT),
            term,
            council_for(today, school.failing_proposal_days, term.year.ends_on),
        )
        count += 1
    return count
