"""Figures across the schools of a gmina for a chosen period: aggregates only.

No cell may identify a pupil (issue 16): every figure computed from pupils' records says how many
distinct pupils stand behind it, and a cell with fewer than `MIN_GROUP` is suppressed (None, shown
as "—" with a note): an average of a grade level's subject taken by three pupils would tell their
parents each other's children's grades. Counts of messages and of parents' accounts are per
school and are suppressed the same way when the school has fewer than `MIN_GROUP` parents.
Grouped queries only: their cost follows the number of groups, not of pupils loaded into Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, distinct, func, select

from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType, Grade, GradeKind, Presence, Remark
from ediary.notifications.models import Channel, MessageStatus, OutgoingMessage
from ediary.people.models import User
from ediary.schools.models import District, Guardianship, Pupil, SchoolClass, Subject
from ediary.timetable.models import Lesson, LessonStatus

MIN_GROUP = 5
WHOLE = ("1", "2", "3", "4", "5", "6")


def _pct(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class SchoolRow:
    school_id: int
    name: str
    pupils: int = 0  # distinct pupils with an attendance mark in the period
    present: int = 0
    absent: int = 0
    unexcused: int = 0
    grades: int = 0
    entries: int = 0  # attendance marks, grades and remarks written in the period
    emails: int = 0
    sms: int = 0
    parents: int = 0
    activated: int = 0

    @property
    def suppressed(self) -> bool:
        return self.pupils < MIN_GROUP

    @property
    def attendance_percent(self) -> Decimal | None:
        return None if self.suppressed else _pct(self.present, self.present + self.absent)

    @property
    def unexcused_shown(self) -> int | None:
        return None if self.suppressed else self.unexcused

    @property
    def activated_percent(self) -> Decimal | None:
        return None if self.parents < MIN_GROUP else _pct(self.activated, self.parents)


@dataclass(frozen=True)
class AverageCell:
    school_id: int
    grade_level: int
    subject: str
    pupils: int
    grades: int
    total: int  # the sum of whole grades

    @property
    def suppressed(self) -> bool:
        return self.pupils < MIN_GROUP

    @property
    def mean(self) -> Decimal | None:
        if self.suppressed or self.grades == 0:
            return None
        return (Decimal(self.total) / self.grades).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class Figures:
    district: District
    since: dt.date
    until: dt.date
    schools: list[SchoolRow]
    averages: list[AverageCell]
    weeks: list[dt.date] = field(default_factory=list)  # Mondays of the period's weeks
    grades_by_week: dict[dt.date, int] = field(default_factory=dict)
    entries_by_week: dict[dt.date, int] = field(default_factory=dict)

    @property
    def sms_cost(self) -> Decimal:
        sms = sum(s.sms for s in self.schools)
        return (Decimal(sms * self.district.sms_cost_grosze) / 100).quantize(Decimal("0.01"))

    def school_sms_cost(self, row: SchoolRow) -> Decimal:
        return (Decimal(row.sms * self.district.sms_cost_grosze) / 100).quantize(Decimal("0.01"))


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def figures(district: District, since: dt.date, until: dt.date) -> Figures:
    rows = {s.id: SchoolRow(s.id, s.name) for s in sorted(district.schools, key=lambda s: s.name)}
    ids = list(rows)
    result = Figures(district, since, until, list(rows.values()), [])
    week = _monday(since)
    while week <= until:
        result.weeks.append(week)
        week += dt.timedelta(days=7)
    if not ids:
        return result
    in_period = and_(Lesson.date >= since, Lesson.date <= until)
    attendance = db.session.execute(
        select(
            Lesson.school_id,
            AttendanceType.counts_as,
            AttendanceType.excused,
            func.count(),
        )
        .join(Attendance, Attendance.lesson_id == Lesson.id)
        .join(AttendanceType, AttendanceType.id == Attendance.type_id)
        .where(Lesson.school_id.in_(ids), in_period, Lesson.status != LessonStatus.CANCELLED)
        .group_by(Lesson.school_id, AttendanceType.counts_as, AttendanceType.excused)
    )
    for school_id, counts_as, excused, n in attendance:
        row = rows[school_id]
        if counts_as == Presence.PRESENT:
            row.present += int(n)
        else:
            row.absent += int(n)
            row.unexcused += 0 if excused else int(n)
    pupils = db.session.execute(
        select(Lesson.school_id, func.count(distinct(Attendance.pupil_id)))
        .join(Attendance, Attendance.lesson_id == Lesson.id)
        .where(Lesson.school_id.in_(ids), in_period)
        .group_by(Lesson.school_id)
    )
    for school_id, n in pupils:
        rows[school_id].pupils = int(n)
    _averages(result, ids, since, until)
    _weekly(result, rows, ids, since, until)
    _messages(rows, ids, since, until)
    _parents(rows, ids)
    return result


def _averages(result: Figures, ids: list[int], since: dt.date, until: dt.date) -> None:
    whole = func.substr(Grade.value, 1, 1)
    cells = db.session.execute(
        select(
            Grade.school_id,
            SchoolClass.grade_level,
            Subject.name,
            func.count(distinct(Grade.pupil_id)),
            func.count(),
            func.sum(case(*((whole == v, int(v)) for v in WHOLE), else_=0)),
        )
        .join(Pupil, Pupil.id == Grade.pupil_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .join(Subject, Subject.id == Grade.subject_id)
        .where(
            Grade.school_id.in_(ids),
            Grade.kind == GradeKind.ONGOING,
            Grade.removed.is_(False),
            whole.in_(WHOLE),
            Grade.given_on >= since,
            Grade.given_on <= until,
        )
        .group_by(Grade.school_id, SchoolClass.grade_level, Subject.name)
        .order_by(SchoolClass.grade_level, Subject.name)
    )
    result.averages = [
        AverageCell(school_id, int(level), subject, int(pupils), int(n), int(total or 0))
        for school_id, level, subject, pupils, n, total in cells
    ]


def _weekly(
    result: Figures, rows: dict[int, SchoolRow], ids: list[int], since: dt.date, until: dt.date
) -> None:
    """Grades and entries per week (by day in SQL, by week here: portable across databases)."""
    grades = db.session.execute(
        select(Grade.school_id, Grade.given_on, func.count())
        .where(Grade.school_id.in_(ids), Grade.given_on >= since, Grade.given_on <= until)
        .group_by(Grade.school_id, Grade.given_on)
    )
    remarks = db.session.execute(
        select(Remark.school_id, Remark.given_on, func.count())
        .where(Remark.school_id.in_(ids), Remark.given_on >= since, Remark.given_on <= until)
        .group_by(Remark.school_id, Remark.given_on)
    )
    marks = db.session.execute(
        select(Lesson.school_id, Lesson.date, func.count())
        .join(Attendance, Attendance.lesson_id == Lesson.id)
        .where(Lesson.school_id.in_(ids), Lesson.date >= since, Lesson.date <= until)
        .group_by(Lesson.school_id, Lesson.date)
    )
    by_week_grades: dict[dt.date, int] = defaultdict(int)
    by_week_entries: dict[dt.date, int] = defaultdict(int)
    for school_id, day, n in grades:
        rows[school_id].grades += int(n)
        rows[school_id].entries += int(n)
        by_week_grades[_monday(day)] += int(n)
        by_week_entries[_monday(day)] += int(n)
    for source in (remarks, marks):
        for school_id, day, n in source:
            rows[school_id].entries += int(n)
            by_week_entries[_monday(day)] += int(n)
    result.grades_by_week = {w: by_week_grades.get(w, 0) for w in result.weeks}
    result.entries_by_week = {w: by_week_entries.get(w, 0) for w in result.weeks}


def _messages(rows: dict[int, SchoolRow], ids: list[int], since: dt.date, until: dt.date) -> None:
    start = dt.datetime.combine(since, dt.time(0), dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), dt.UTC)
    sent = db.session.execute(
        select(OutgoingMessage.school_id, OutgoingMessage.channel, func.count())
        .where(
            OutgoingMessage.school_id.in_(ids),
            OutgoingMessage.status == MessageStatus.SENT,
            OutgoingMessage.sent_at >= start,
            OutgoingMessage.sent_at < end,
        )
        .group_by(OutgoingMessage.school_id, OutgoingMessage.channel)
    )
    for school_id, channel, n in sent:
        if school_id is None:
            continue
        if channel == Channel.SMS:
            rows[school_id].sms += int(n)
        else:
            rows[school_id].emails += int(n)


def _parents(rows: dict[int, SchoolRow], ids: list[int]) -> None:
    parents = db.session.execute(
        select(
            Guardianship.school_id,
            func.count(distinct(User.id)),
            func.count(distinct(case((User.password_hash.is_not(None), User.id)))),
        )
        .join(User, User.id == Guardianship.user_id)
        .where(Guardianship.school_id.in_(ids), User.active.is_(True))
        .group_by(Guardianship.school_id)
    )
    for school_id, n, activated in parents:
        rows[school_id].parents = int(n)
        rows[school_id].activated = int(activated)
