"""Plain helpers of the council's tests: a council date, final grades written as rows."""

from __future__ import annotations

import datetime as dt

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.diary.models import Grade, GradeKind
from ediary.people.models import User
from ediary.schools.models import Pupil, Subject, Term


@operation
def set_council(actor: Actor, term: Term, day: dt.date | None) -> None:
    term.council_on = day
    db.session.flush()


@operation
def final_grades(
    actor: Actor,
    pupil: Pupil,
    term: Term,
    kind: GradeKind,
    teacher: User,
    values: dict[Subject, str],
) -> None:
    """Final (TERM/YEAR) grades of the pupil, one per subject, as the classification writes."""
    for subject, value in values.items():
        db.session.add(
            Grade(
                school_id=pupil.school_id,
                pupil_id=pupil.id,
                subject_id=subject.id,
                term_id=term.id,
                teacher_id=teacher.id,
                kind=kind,
                value=value,
                given_on=term.ends_on,
            )
        )
    db.session.flush()
