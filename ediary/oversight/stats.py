"""The school's figures per class and subject for the school year that holds `today`: attendance
percentage, the mean of the pupils' weighted averages (ediary.diary.queries.weighted_average, the
same the parents see), and the pupils whose absences reach the school's warning threshold
(School.absence_warning_percent). Names are given to the director only; the district's
administrator gets the counts (`with_names=False`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from ediary.db import db
from ediary.diary.models import Attendance, Grade, Presence
from ediary.diary.queries import AttendanceSummary, weighted_average
from ediary.gradingrules.years import rules_for_year
from ediary.schools.models import Pupil, School, SchoolClass, SchoolYear, Subject
from ediary.timetable.models import Lesson


@dataclass
class Figures:
    class_name: str
    subject: str
    attendance: AttendanceSummary = field(default_factory=AttendanceSummary)
    average: Decimal | None = None
    graded_pupils: int = 0
    under_threshold: int = 0
    names: list[str] = field(default_factory=list)  # empty for the district


@dataclass(frozen=True)
class SchoolFigures:
    year: SchoolYear | None
    threshold: int
    rows: list[Figures]


def school_year(school: School, today: dt.date) -> SchoolYear | None:
    years = list(
        db.session.scalars(
            select(SchoolYear)
            .where(SchoolYear.school_id == school.id, SchoolYear.starts_on <= today)
            .order_by(SchoolYear.starts_on.desc())
        )
    )
    return years[0] if years else None


def school_figures(school: School, today: dt.date, *, with_names: bool) -> SchoolFigures:
    year = school_year(school, today)
    if year is None:
        return SchoolFigures(None, school.absence_warning_percent, [])
    classes = {
        c.id: c
        for c in db.session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id))
    }
    subjects = {s.id: s.name for s in db.session.scalars(select(Subject))}
    pupils = {p.id: p for p in db.session.scalars(select(Pupil).where(Pupil.class_id.in_(classes)))}
    rows: dict[tuple[int, int], Figures] = {}

    def row(class_id: int, subject_id: int) -> Figures:
        key = (class_id, subject_id)
        if key not in rows:
            rows[key] = Figures(classes[class_id].name, subjects.get(subject_id, "?"))
        return rows[key]

    rules = rules_for_year(year)  # the statute of that school year: counting and weights
    # Attendance: per class and subject, and per pupil in it (for the threshold).
    per_pupil: dict[tuple[int, int, int], AttendanceSummary] = defaultdict(AttendanceSummary)
    marks = db.session.execute(
        select(Lesson.class_id, Lesson.subject_id, Attendance.pupil_id, Attendance.type_id)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .where(
            Lesson.class_id.in_(classes),
            Lesson.date >= year.starts_on,
            Lesson.date <= year.ends_on,
        )
    )
    for class_id, subject_id, pupil_id, type_id in marks:
        counts_as = rules.counts_as(type_id)
        for summary in (
            row(class_id, subject_id).attendance,
            per_pupil[class_id, subject_id, pupil_id],
        ):
            if counts_as is Presence.PRESENT:
                summary.present += 1
            else:
                summary.absent += 1
    for (class_id, subject_id, pupil_id), summary in per_pupil.items():
        if summary.warns(school.absence_warning_percent):
            figures = row(class_id, subject_id)
            figures.under_threshold += 1
            pupil = pupils.get(pupil_id)
            if with_names and pupil is not None:
                figures.names.append(f"{pupil.last_name} {pupil.first_name}")
    # Averages: each pupil's weighted average in the subject, then their mean.
    terms = [t.id for t in year.terms]
    grades: dict[tuple[int, int], list[Grade]] = defaultdict(list)
    for grade in db.session.scalars(
        select(Grade).where(Grade.pupil_id.in_(pupils), Grade.term_id.in_(terms))
    ):
        grades[grade.pupil_id, grade.subject_id].append(grade)
    means: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    for (pupil_id, subject_id), pupil_grades in grades.items():
        average = weighted_average(pupil_grades, rules).value
        if average is not None:
            means[pupils[pupil_id].class_id, subject_id].append(average)
    for (class_id, subject_id), values in means.items():
        figures = row(class_id, subject_id)
        figures.graded_pupils = len(values)
        figures.average = (sum(values, Decimal(0)) / len(values)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
    for figures in rows.values():
        figures.names.sort()
    ordered = sorted(rows.values(), key=lambda f: (f.class_name, f.subject))
    return SchoolFigures(year, school.absence_warning_percent, ordered)


@dataclass(frozen=True)
class Bar:
    label: str
    percent: Decimal
    y: int
    width: int


def attendance_bars(found: SchoolFigures, width: int = 400) -> list[Bar]:
    """The bars of the attendance chart, one per class and subject with a roll, as SVG numbers
    (the template draws them: a hand-written SVG needs no script and no CDN, and reads the same
    in the PDF and with images off through its <title> and the table beside it)."""
    bars: list[Bar] = []
    for figures in found.rows:
        percent = figures.attendance.present_percent
        if percent is None:
            continue
        y = len(bars) * 24
        label = f"{figures.class_name} {figures.subject}"
        bars.append(Bar(label, percent, y, int(percent * width / 100)))
    return bars
