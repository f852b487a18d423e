"""What the form tutor's page computes: read-only, no writes (so no operation, no history)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select

from ediary.contacts.queries import ContactState, states_for
from ediary.db import db
from ediary.diary.models import Attendance, Grade, GradeKind, Presence
from ediary.diary.queries import AttendanceSummary, Average, weighted_average
from ediary.gradingrules.years import YearRuleSet, rules_for_term
from ediary.people.models import User
from ediary.schools.models import (
    GroupMembership,
    Guardianship,
    Pupil,
    SchoolClass,
    Subject,
    Term,
)
from ediary.timetable.models import Lesson, LessonStatus

# The statute's threshold of non-classification (rozporządzenie o ocenianiu, § 22 ust. 1 of the
# typical statute; art. 44k ust. 1 ustawy o systemie oświaty): a pupil absent from more than
# half of a subject's lessons may be left unclassified. The usual value; each school year's is in
# its grading rules (ediary/gradingrules: `non_classification_percent`), which the report uses.
CLASSIFICATION_ATTENDANCE_PERCENT = 50


@dataclass
class SubjectRow:
    subject: Subject
    attendance: AttendanceSummary
    average: Average
    remaining: int = 0  # lessons of the subject still ahead until the term's end
    needed: int = 0  # of those, how many the pupil must attend to end at the threshold or above
    threshold: int = CLASSIFICATION_ATTENDANCE_PERCENT  # the year's statute's

    @property
    def at_risk(self) -> bool:
        present = self.attendance.present_percent
        return present is not None and present < self.threshold

    @property
    def hopeless(self) -> bool:
        return self.needed > self.remaining


@dataclass
class Guardian:
    user: User
    contacts: dict[str, ContactState]


@dataclass
class PupilRow:
    pupil: Pupil
    attendance: AttendanceSummary
    subjects: list[SubjectRow]
    guardians: list[Guardian] = field(default_factory=list)

    @property
    def risks(self) -> list[SubjectRow]:
        return [s for s in self.subjects if s.at_risk]


@dataclass
class ClassReport:
    school_class: SchoolClass
    term: Term
    today: dt.date
    threshold: int
    subjects: list[Subject]
    pupils: list[PupilRow]

    @property
    def at_risk(self) -> list[tuple[PupilRow, SubjectRow]]:
        return [(p, s) for p in self.pupils for s in p.risks]


def must_attend(present: int, absent: int, remaining: int, percent: int) -> int:
    """The fewest of the remaining lessons to attend so that, at the term's end, present is at
    least `percent` of all lessons: the least x with 100·(present + x) ≥ percent·total."""
    total = present + absent + remaining
    shortfall = percent * total - 100 * present
    return max(0, -(-shortfall // 100))


def _attendance(
    school_class: SchoolClass, term: Term, rules: YearRuleSet
) -> dict[tuple[int, int], AttendanceSummary]:
    """(pupil id, subject id) → attended and missed lessons of the term, one query; each type
    counts as the statute of the term's year says."""
    query = (
        select(Attendance.pupil_id, Lesson.subject_id, Attendance.type_id, func.count())
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .where(
            Lesson.class_id == school_class.id,
            Lesson.status != LessonStatus.CANCELLED,
            Lesson.date >= term.starts_on,
            Lesson.date <= term.ends_on,
        )
        .group_by(Attendance.pupil_id, Lesson.subject_id, Attendance.type_id)
    )
    found: dict[tuple[int, int], AttendanceSummary] = defaultdict(AttendanceSummary)
    for pupil_id, subject_id, type_id, count in db.session.execute(query):
        summary = found[(pupil_id, subject_id)]
        if rules.counts_as(type_id) == Presence.PRESENT:
            summary.present += count
        else:
            summary.absent += count
    return found


def _remaining(
    school_class: SchoolClass, term: Term, today: dt.date
) -> dict[tuple[int | None, int], int]:
    """(group id or None, subject id) → generated lessons still ahead until the term's end:
    from today on, not cancelled, no roll taken yet (today's lesson already recorded counts as
    attended or missed, not as remaining; an earlier lesson without a roll is neither)."""
    recorded = exists().where(Attendance.lesson_id == Lesson.id)
    query = (
        select(Lesson.group_id, Lesson.subject_id, func.count())
        .where(
            Lesson.class_id == school_class.id,
            Lesson.status != LessonStatus.CANCELLED,
            Lesson.date >= today,
            ~recorded,
            Lesson.date <= term.ends_on,
        )
        .group_by(Lesson.group_id, Lesson.subject_id)
    )
    return {(g, s): n for g, s, n in db.session.execute(query)}


def _guardians(pupil_ids: list[int]) -> dict[int, list[Guardian]]:
    rows = db.session.execute(
        select(Guardianship.pupil_id, User)
        .join(User, User.id == Guardianship.user_id)
        .where(Guardianship.pupil_id.in_(pupil_ids))
        .order_by(User.last_name, User.first_name)
    ).all()
    states = states_for(sorted({user.id for _, user in rows}))
    found: dict[int, list[Guardian]] = defaultdict(list)
    for pupil_id, user in rows:
        found[pupil_id].append(Guardian(user, states[user.id]))
    return found


def class_report(school_class: SchoolClass, term: Term, today: dt.date) -> ClassReport:
    pupils = sorted(
        (p for p in school_class.pupils if p.active), key=lambda p: (p.last_name, p.first_name)
    )
    ids = [p.id for p in pupils]
    rules = rules_for_term(term.id)
    attendance = _attendance(school_class, term, rules)
    remaining = _remaining(school_class, term, today)
    grades: dict[tuple[int, int], list[Grade]] = defaultdict(list)
    for grade in db.session.scalars(
        select(Grade).where(
            Grade.pupil_id.in_(ids),
            Grade.term_id == term.id,
            Grade.kind == GradeKind.ONGOING,
            Grade.removed.is_(False),
        )
    ):
        grades[(grade.pupil_id, grade.subject_id)].append(grade)
    groups: dict[int, set[int]] = defaultdict(set)
    for pupil_id, group_id in db.session.execute(
        select(GroupMembership.pupil_id, GroupMembership.group_id).where(
            GroupMembership.pupil_id.in_(ids)
        )
    ):
        groups[pupil_id].add(group_id)
    subject_ids = {s for _, s in attendance} | {s for _, s in grades} | {s for _, s in remaining}
    subjects = list(
        db.session.scalars(
            select(Subject).where(Subject.id.in_(subject_ids)).order_by(Subject.name)
        )
    )
    guardians = _guardians(ids)
    rows: list[PupilRow] = []
    for pupil in pupils:
        overall = AttendanceSummary()
        subject_rows: list[SubjectRow] = []
        for subject in subjects:
            summary = attendance.get((pupil.id, subject.id), AttendanceSummary())
            overall.present += summary.present
            overall.absent += summary.absent
            left = sum(
                n
                for (group, s), n in remaining.items()
                if s == subject.id and (group is None or group in groups[pupil.id])
            )
            row = SubjectRow(
                subject,
                summary,
                weighted_average(grades.get((pupil.id, subject.id), []), rules),
                left,
                threshold=rules.non_classification_percent,
            )
            row.needed = must_attend(
                summary.present, summary.absent, left, rules.non_classification_percent
            )
            subject_rows.append(row)
        rows.append(PupilRow(pupil, overall, subject_rows, guardians.get(pupil.id, [])))
    threshold = rules.non_classification_percent
    return ClassReport(school_class, term, today, threshold, subjects, rows)
