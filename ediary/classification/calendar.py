"""The classification calendar: when proposals are due and when final grades lock.

The dates are per-school data from the statute: the council's date per term (`Term.council_on`,
the last term's council is the year's) and how many days before it proposals are due
(`School.failing_proposal_days` for a failing grade, `School.proposal_days` for the others).
Every function takes `today` (the school's local date) rather than reading the clock, so the
rules are plain arithmetic and the callers decide which day it is.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ediary.db import db
from ediary.schools.models import School, Term


def proposal_deadline(term: Term, failing: bool) -> dt.date | None:
    """The last day a proposal may be given on time; None while the council has no date."""
    if term.council_on is None:
        return None
    school = db.session.get_one(School, term.school_id)
    days = school.failing_proposal_days if failing else school.proposal_days
    return term.council_on - dt.timedelta(days=days)


def is_late(term: Term, failing: bool, today: dt.date) -> bool:
    """A proposal given today is past its deadline."""
    deadline = proposal_deadline(term, failing)
    return deadline is not None and today > deadline


def is_locked(term: Term, today: dt.date) -> bool:
    """Final grades of the term are locked: the council met (the day of the meeting is still
    open, the council approves the grades that day); afterwards only the director corrects."""
    return term.council_on is not None and today > term.council_on


def is_last_term(term: Term) -> bool:
    """The year's council is the last term's: year grades (PROPOSED_YEAR, YEAR) live on it."""
    last = db.session.scalar(select(func.max(Term.number)).where(Term.year_id == term.year_id))
    return term.number == last
