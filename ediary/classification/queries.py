"""Read-only: the subject teacher's classification sheet, a child's proposals for the parents,
and who of a class's guardians acknowledged them (the form tutor's list)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from ediary.classification.calendar import is_last_term, is_locked, proposal_deadline
from ediary.classification.models import GradeCorrection, ProposalAcknowledgement
from ediary.classification.operations import kinds_of, late
from ediary.classification.values import is_descriptive_level
from ediary.council.models import BehaviourGrade, BehaviourKind
from ediary.db import db
from ediary.diary.models import (
    Grade,
    GradeCategory,
    GradeKind,
)
from ediary.diary.queries import AttendanceSummary, Average, attendance_of_pupils, weighted_average
from ediary.gradebook.queries import explain, grid_pupils
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, School, SchoolClass, Subject, Term
from ediary.timetable.models import Lesson, TeachingAssignment


@dataclass
class SheetRow:
    pupil: Pupil
    average: Average
    attendance: AttendanceSummary
    proposed: Grade | None
    final: Grade | None
    proposed_late: bool

    @property
    def explanation(self) -> str:
        return explain(self.average)


@dataclass
class Calendar:
    """The term's dates as the pages show them."""

    term: Term
    council_on: dt.date | None
    failing_deadline: dt.date | None
    other_deadline: dt.date | None
    locked: bool
    year: bool  # the year's classification (the last term)


@dataclass
class Sheet:
    assignment: TeachingAssignment
    term: Term
    calendar: Calendar
    proposed_kind: GradeKind
    final_kind: GradeKind
    descriptive: bool
    rows: list[SheetRow]


def calendar_of(term: Term, today: dt.date) -> Calendar:
    return Calendar(
        term,
        term.council_on,
        proposal_deadline(term, True),
        proposal_deadline(term, False),
        is_locked(term, today),
        is_last_term(term),
    )


def _terms_counted(term: Term) -> list[Term]:
    """The year's classification weighs the whole year's grades and lessons; a term's, its own."""
    if not is_last_term(term):
        return [term]
    query = select(Term).where(Term.year_id == term.year_id).order_by(Term.number)
    return list(db.session.scalars(query))


def _ongoing(
    pupil_ids: list[int], subject_id: int, term_ids: list[int], school_id: int
) -> dict[int, list[Grade]]:
    by_pupil: dict[int, list[Grade]] = defaultdict(list)
    if not pupil_ids:
        return by_pupil
    db.session.scalars(select(GradeCategory).where(GradeCategory.school_id == school_id)).all()
    query = (
        select(Grade)
        .where(
            Grade.pupil_id.in_(pupil_ids),
            Grade.subject_id == subject_id,
            Grade.term_id.in_(term_ids),
            Grade.kind == GradeKind.ONGOING,
            Grade.removed.is_(False),
        )
        .order_by(Grade.id)
        .options(lazyload(Grade.category))
    )
    for grade in db.session.scalars(query):
        by_pupil[grade.pupil_id].append(grade)
    return by_pupil


def _attendance(
    assignment: TeachingAssignment, pupil_ids: list[int], since: dt.date, until: dt.date
) -> dict[int, AttendanceSummary]:
    """Per pupil: lessons of the subject in the class attended and missed (not cancelled)."""
    return attendance_of_pupils(
        pupil_ids,
        since,
        until,
        Lesson.class_id == assignment.class_id,
        Lesson.subject_id == assignment.subject_id,
    )


def _live(
    pupil_ids: list[int], subject_id: int, term_id: int, kinds: Sequence[GradeKind]
) -> dict[tuple[int, GradeKind], Grade]:
    found: dict[tuple[int, GradeKind], Grade] = {}
    query = (
        select(Grade)
        .where(
            Grade.pupil_id.in_(pupil_ids),
            Grade.subject_id == subject_id,
            Grade.term_id == term_id,
            Grade.kind.in_(kinds),
            Grade.removed.is_(False),
        )
        .order_by(Grade.id)
        .options(lazyload(Grade.category))
    )
    for grade in db.session.scalars(query):
        found[(grade.pupil_id, grade.kind)] = grade  # the newest wins (there is one)
    return found


def build_sheet(
    assignment: TeachingAssignment, term: Term, school: School, today: dt.date
) -> Sheet:
    pupils = list(grid_pupils(assignment))
    ids = [p.id for p in pupils]
    counted = _terms_counted(term)
    ongoing = _ongoing(ids, assignment.subject_id, [t.id for t in counted], school.id)
    attendance = _attendance(assignment, ids, counted[0].starts_on, term.ends_on)
    proposed_kind, final_kind = kinds_of(term)
    live = _live(ids, assignment.subject_id, term.id, (proposed_kind, final_kind))
    rows = []
    for pupil in pupils:
        proposed = live.get((pupil.id, proposed_kind))
        rows.append(
            SheetRow(
                pupil,
                weighted_average(ongoing.get(pupil.id, []), school),
                attendance.get(pupil.id, AttendanceSummary()),
                proposed,
                live.get((pupil.id, final_kind)),
                proposed is not None and late(proposed, term),
            )
        )
    school_class = db.session.get_one(SchoolClass, assignment.class_id)
    return Sheet(
        assignment,
        term,
        calendar_of(term, today),
        proposed_kind,
        final_kind,
        is_descriptive_level(school_class.grade_level),
        rows,
    )


# --- the parents' page ------------------------------------------------------------------------


@dataclass
class ChildProposal:
    subject: Subject
    grade: Grade
    late: bool


@dataclass
class ChildProposals:
    pupil: Pupil
    calendar: Calendar
    kind: GradeKind
    proposals: list[ChildProposal]
    finals: dict[int, Grade]  # subject id → the final grade, once given
    acknowledged_at: dt.datetime | None
    # The form tutor's proposed behaviour grade (ediary/council) and the council's, once given:
    # read and acknowledged with the subject grades.
    behaviour: BehaviourGrade | None = None
    behaviour_final: BehaviourGrade | None = None

    @property
    def anything(self) -> bool:
        """Something to acknowledge: a subject proposal or the proposed behaviour grade."""
        return bool(self.proposals) or self.behaviour is not None


def child_proposals(pupil: Pupil, term: Term, guardian: User, today: dt.date) -> ChildProposals:
    proposed_kind, final_kind = kinds_of(term)
    grades = db.session.scalars(
        select(Grade)
        .where(
            Grade.pupil_id == pupil.id,
            Grade.term_id == term.id,
            Grade.kind.in_((proposed_kind, final_kind)),
            Grade.removed.is_(False),
        )
        .order_by(Grade.id)
        .options(lazyload(Grade.category))
    ).all()
    proposals: dict[int, Grade] = {}
    finals: dict[int, Grade] = {}
    for grade in grades:
        (proposals if grade.kind is proposed_kind else finals)[grade.subject_id] = grade
    subjects = {s.id: s for s in db.session.scalars(select(Subject).where(Subject.id.in_(
        set(proposals) | set(finals))))}  # fmt: skip
    rows = sorted(
        (ChildProposal(subjects[sid], g, late(g, term)) for sid, g in proposals.items()),
        key=lambda row: row.subject.name,
    )
    acknowledged = db.session.scalar(
        select(ProposalAcknowledgement.acknowledged_at).where(
            ProposalAcknowledgement.guardian_id == guardian.id,
            ProposalAcknowledgement.pupil_id == pupil.id,
            ProposalAcknowledgement.term_id == term.id,
            ProposalAcknowledgement.kind == proposed_kind,
        )
    )
    behaviour = {
        b.kind: b
        for b in db.session.scalars(
            select(BehaviourGrade).where(
                BehaviourGrade.pupil_id == pupil.id, BehaviourGrade.term_id == term.id
            )
        )
    }
    return ChildProposals(
        pupil,
        calendar_of(term, today),
        proposed_kind,
        rows,
        finals,
        acknowledged,
        behaviour.get(BehaviourKind.PROPOSED),
        behaviour.get(BehaviourKind.FINAL),
    )


# --- the form tutor's list --------------------------------------------------------------------


@dataclass
class GuardianAck:
    guardian: User
    acknowledged_at: dt.datetime | None


@dataclass
class PupilAcks:
    pupil: Pupil
    proposals: int
    behaviour: BehaviourGrade | None = None  # the proposed behaviour grade, acknowledged too
    guardians: list[GuardianAck] = field(default_factory=list)


def class_acknowledgements(school_class: SchoolClass, term: Term) -> list[PupilAcks]:
    """Per active pupil: how many proposals they have, and each guardian's acknowledgement."""
    proposed_kind, _ = kinds_of(term)
    pupils = sorted(
        (p for p in school_class.pupils if p.active), key=lambda p: (p.last_name, p.first_name)
    )
    ids = [p.id for p in pupils]
    if not ids:
        return []
    counts = dict(
        db.session.execute(
            select(Grade.pupil_id, func.count())
            .where(
                Grade.pupil_id.in_(ids),
                Grade.term_id == term.id,
                Grade.kind == proposed_kind,
                Grade.removed.is_(False),
            )
            .group_by(Grade.pupil_id)
        ).all()
    )
    acks = {
        (a.guardian_id, a.pupil_id): a.acknowledged_at
        for a in db.session.scalars(
            select(ProposalAcknowledgement).where(
                ProposalAcknowledgement.pupil_id.in_(ids),
                ProposalAcknowledgement.term_id == term.id,
                ProposalAcknowledgement.kind == proposed_kind,
            )
        )
    }
    behaviour = {
        b.pupil_id: b
        for b in db.session.scalars(
            select(BehaviourGrade).where(
                BehaviourGrade.pupil_id.in_(ids),
                BehaviourGrade.term_id == term.id,
                BehaviourGrade.kind == BehaviourKind.PROPOSED,
            )
        )
    }
    rows = {p.id: PupilAcks(p, int(counts.get(p.id, 0)), behaviour.get(p.id)) for p in pupils}
    for pupil_id, user in db.session.execute(
        select(Guardianship.pupil_id, User)
        .join(User, User.id == Guardianship.user_id)
        .where(Guardianship.pupil_id.in_(ids))
        .order_by(User.last_name, User.first_name)
    ):
        rows[pupil_id].guardians.append(GuardianAck(user, acks.get((user.id, pupil_id))))
    return list(rows.values())


# --- the director's list of final grades ------------------------------------------------------


@dataclass
class FinalRow:
    pupil: Pupil
    subject: Subject
    grade: Grade
    corrections: list[GradeCorrection]


def class_finals(school_class: SchoolClass, term: Term) -> list[FinalRow]:
    _, final_kind = kinds_of(term)
    ids = [p.id for p in school_class.pupils]
    if not ids:
        return []
    grades = db.session.scalars(
        select(Grade)
        .where(
            Grade.pupil_id.in_(ids),
            Grade.term_id == term.id,
            Grade.kind == final_kind,
            Grade.removed.is_(False),
        )
        .options(lazyload(Grade.category))
    ).all()
    corrections: dict[int, list[GradeCorrection]] = defaultdict(list)
    for correction in db.session.scalars(
        select(GradeCorrection)
        .where(GradeCorrection.grade_id.in_([g.id for g in grades]))
        .order_by(GradeCorrection.id)
    ):
        corrections[correction.grade_id].append(correction)
    pupils = {p.id: p for p in school_class.pupils}
    rows = [FinalRow(pupils[g.pupil_id], g.subject, g, corrections.get(g.id, [])) for g in grades]
    return sorted(rows, key=lambda r: (r.pupil.last_name, r.pupil.first_name, r.subject.name))
