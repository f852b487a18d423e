"""The demo's council (issue 15 item 5): `wychowawca1`'s class (grades 4-8) has this term's
behaviour opinions of two of its teachers, proposed behaviour grades for most pupils and final
ones for some, and proposed and final term grades in the subjects taught to the whole class
except `nauczyciel1`'s (who can still try the proposal sheet there). So the council sheet of
`wychowawca1` and `dyrektor1` shows averages, behaviour and flags, and `rodzic1` finds the
proposed grades and behaviour to acknowledge ("Oceny przewidywane").

Written as rows (channel `import`, as the rest of the seed), one operation per person so that
the history names who wrote them: the tutor the behaviour grades, each teacher their opinions and
grades. No journal events are published (seeded history is not live news)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import cycle

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel, operation
from ediary.classification.operations import kinds_of
from ediary.council.access import terms_of_year
from ediary.council.models import Behaviour, BehaviourGrade, BehaviourKind, BehaviourOpinion
from ediary.db import Base, db
from ediary.diary.models import Grade
from ediary.people.models import User
from ediary.schools.models import Pupil, SchoolClass, Term
from ediary.schools.queries import current_term
from ediary.timetable.models import TeachingAssignment

TUTOR, TEACHER = "wychowawca1", "nauczyciel1"
VALUES = ("5", "4", "4", "3", "5", "6", "4", "3", "2", "5", "4", "1")
BEHAVIOUR = (Behaviour.VERY_GOOD, Behaviour.GOOD, Behaviour.EXEMPLARY, Behaviour.GOOD,
             Behaviour.CORRECT, Behaviour.VERY_GOOD, Behaviour.GOOD)  # fmt: skip
OPINIONS = (
    "Pomaga kolegom, aktywny na lekcjach.",
    "Zdarza się, że przeszkadza na lekcji.",
    "Sumiennie przygotowany, kulturalny.",
    "Spóźnia się na pierwsze lekcje.",
)
UNGRADED = 2  # the last pupils have no proposed behaviour grade yet: the tutor's work left
FINAL_SHARE = 2  # every second pupil has the final behaviour grade already


@operation
def _add(actor: Actor, rows: list[Base]) -> None:
    db.session.add_all(rows)


def seed_council(today: dt.date) -> int:
    """How many rows were written (0 when the demo lacks the tutor's class). The caller commits."""
    tutor = db.session.scalar(select(User).where(User.login == TUTOR))
    teacher = db.session.scalar(select(User).where(User.login == TEACHER))
    if tutor is None:
        return 0
    school_class = db.session.scalar(
        select(SchoolClass)
        .where(SchoolClass.form_tutor_id == tutor.id, SchoolClass.grade_level >= 4)
        .order_by(SchoolClass.id)
    )
    if school_class is None:
        return 0
    terms = terms_of_year(school_class.year_id)
    if not terms:
        return 0
    term: Term = current_term(terms, today)
    pupils = db.session.scalars(
        select(Pupil)
        .where(Pupil.class_id == school_class.id, Pupil.active.is_(True))
        .order_by(Pupil.last_name, Pupil.first_name)
    ).all()
    assignments = db.session.scalars(
        select(TeachingAssignment)
        .where(
            TeachingAssignment.class_id == school_class.id, TeachingAssignment.group_id.is_(None)
        )
        .order_by(TeachingAssignment.subject_id)
    ).all()
    school_id = school_class.school_id
    rows: dict[int, list[Base]] = defaultdict(list)  # by the user who writes them
    # Opinions of two of the class's teachers: nauczyciel1 (when teaching it) and another one.
    teaching = [a.teacher_id for a in assignments]
    demo = [teacher.id] if teacher is not None and teacher.id in teaching else []
    other = [t for t in teaching if t not in (tutor.id, *demo)][:1]
    opinion_by = demo + other
    texts, behaviour = cycle(OPINIONS), cycle(BEHAVIOUR)
    for n, pupil in enumerate(pupils[: len(pupils) - UNGRADED]):
        conduct = next(behaviour)
        about = {"school_id": school_id, "term_id": term.id, "pupil_id": pupil.id}
        if n < len(OPINIONS):
            for t in opinion_by:
                opinion = BehaviourOpinion(**about, teacher_id=t, value=conduct, text=next(texts))
                rows[t].append(opinion)
        given = [BehaviourKind.PROPOSED]
        if n % FINAL_SHARE == 0:
            given.append(BehaviourKind.FINAL)
        rows[tutor.id] += [BehaviourGrade(**about, kind=kind, value=conduct) for kind in given]
    graded: set[int] = set()
    kinds = kinds_of(term)  # the year's grades when today is in the last term
    for assignment in assignments:
        if assignment.subject_id in graded or (teacher and assignment.teacher_id == teacher.id):
            continue
        graded.add(assignment.subject_id)
        for p, pupil in enumerate(pupils):
            value = VALUES[(p * 5 + len(graded) * 7) % len(VALUES)]  # varied, the same each seed
            rows[assignment.teacher_id] += [
                Grade(
                    school_id=school_id,
                    pupil_id=pupil.id,
                    subject_id=assignment.subject_id,
                    term_id=term.id,
                    teacher_id=assignment.teacher_id,
                    kind=kind,
                    value=value,
                    given_on=today,
                )
                for kind in kinds
            ]
    for user_id, written in rows.items():
        _add(Actor(db.session.get_one(User, user_id), Channel.IMPORT), written)
    return sum(len(written) for written in rows.values())
