"""What the behaviour pages read: a teacher's pupils with their opinions, the form tutor's board
of opinions and grades, a child's behaviour grades for the portal. Read-only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ediary.council.models import BehaviourGrade, BehaviourKind, BehaviourOpinion
from ediary.db import db
from ediary.people.models import User
from ediary.schools.models import GroupMembership, Pupil, SchoolClass, Term
from ediary.timetable.models import TeachingAssignment


def taught_pupils(teacher: User, school_class: SchoolClass) -> list[Pupil]:
    """The class's pupils the teacher teaches: all of them for an assignment of the whole
    class, else the members of the teacher's groups."""
    groups = set(
        db.session.scalars(
            select(TeachingAssignment.group_id).where(
                TeachingAssignment.teacher_id == teacher.id,
                TeachingAssignment.class_id == school_class.id,
            )
        )
    )
    pupils = [p for p in school_class.pupils if p.active]
    if None in groups:
        return pupils
    members = set(
        db.session.scalars(
            select(GroupMembership.pupil_id).where(GroupMembership.group_id.in_(groups))
        )
    )
    return [p for p in pupils if p.id in members]


def opinions_by(teacher: User, term: Term) -> dict[int, BehaviourOpinion]:
    """pupil id → the teacher's opinion in the term."""
    rows = db.session.scalars(
        select(BehaviourOpinion).where(
            BehaviourOpinion.term_id == term.id, BehaviourOpinion.teacher_id == teacher.id
        )
    )
    return {o.pupil_id: o for o in rows}


def taught_classes(teacher: User) -> list[SchoolClass]:
    """The classes of 4-8 the teacher teaches (opinions are of graded behaviour)."""
    query = (
        select(SchoolClass)
        .join(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
        .where(TeachingAssignment.teacher_id == teacher.id, SchoolClass.grade_level >= 4)
        .distinct()
        .order_by(SchoolClass.name)
    )
    return list(db.session.scalars(query))


@dataclass
class BoardRow:
    pupil: Pupil
    opinions: list[BehaviourOpinion] = field(default_factory=list)
    proposed: BehaviourGrade | None = None
    final: BehaviourGrade | None = None


def behaviour_board(school_class: SchoolClass, term: Term) -> list[BoardRow]:
    """Each active pupil with the teachers' opinions and the proposed and final grade."""
    rows = {p.id: BoardRow(p) for p in school_class.pupils if p.active}
    ids = list(rows)
    for opinion in db.session.scalars(
        select(BehaviourOpinion)
        .options(joinedload(BehaviourOpinion.teacher))
        .where(BehaviourOpinion.term_id == term.id, BehaviourOpinion.pupil_id.in_(ids))
        .order_by(BehaviourOpinion.id)
    ):
        rows[opinion.pupil_id].opinions.append(opinion)
    for grade in db.session.scalars(
        select(BehaviourGrade).where(
            BehaviourGrade.term_id == term.id, BehaviourGrade.pupil_id.in_(ids)
        )
    ):
        if grade.kind is BehaviourKind.PROPOSED:
            rows[grade.pupil_id].proposed = grade
        else:
            rows[grade.pupil_id].final = grade
    return list(rows.values())


def grades_of_child(
    pupil: Pupil, terms: list[Term]
) -> dict[int, dict[BehaviourKind, BehaviourGrade]]:
    """term id → kind → the child's behaviour grade (for the portal)."""
    found: dict[int, dict[BehaviourKind, BehaviourGrade]] = defaultdict(dict)
    for grade in db.session.scalars(
        select(BehaviourGrade).where(
            BehaviourGrade.pupil_id == pupil.id,
            BehaviourGrade.term_id.in_([t.id for t in terms]),
        )
    ):
        found[grade.term_id][grade.kind] = grade
    return found
