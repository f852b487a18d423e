"""The school year rollover's dry run: what happens to each class and pupil, nothing written.

At the end of August the open year that has ended is rolled over: each class of grades 1-7 goes
up a grade with its pupils and form tutor (4b → 5b), grade 8 graduates, the pupils the office
ticks repeat their grade (into the new year's class of the same name), the new year gets its two
terms, and the old year is closed (read-only, still visible). The dates follow the law (the
regulation on the school year's organisation): classes start on 1 September, or on the next
Monday when it falls on a Friday, Saturday or Sunday; they end on the last Friday of June.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.db import db
from ediary.schools.models import Pupil, School, SchoolClass, SchoolYear

LAST_GRADE = 8  # a primary school's last grade graduates
PROMOTED, REPEATS, GRADUATES = "promoted", "repeats", "graduates"


def first_school_day(year: int) -> dt.date:
    day = dt.date(year, 9, 1)
    if day.weekday() >= 4:  # Friday, Saturday, Sunday: the next Monday
        day += dt.timedelta(days=7 - day.weekday())
    return day


def last_friday_of_june(year: int) -> dt.date:
    day = dt.date(year, 6, 30)
    return day - dt.timedelta(days=(day.weekday() - 4) % 7)


def default_term_two(starts_on: dt.date) -> dt.date:
    """The first Monday of February: a common end of the first term (the statute decides; the
    wizard lets the office change it)."""
    day = dt.date(starts_on.year + 1, 2, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def promoted_name(school_class: SchoolClass) -> str | None:
    """ "4b" → "5b": the grade in the name goes up; None when the name has no grade in front."""
    match = re.fullmatch(r"(\d+)(.*)", school_class.name.strip())
    if match is None or int(match.group(1)) != school_class.grade_level:
        return None
    return f"{school_class.grade_level + 1}{match.group(2)}"


@dataclass
class PupilStep:
    pupil: Pupil
    action: str
    to_class: str | None  # the new year's class; None for a graduate


@dataclass
class ClassStep:
    school_class: SchoolClass
    new_name: str | None  # None: the class graduates (or cannot be promoted: see `problem`)
    pupils: list[PupilStep] = field(default_factory=list)
    problem: str | None = None


@dataclass
class RolloverPlan:
    school: School
    old_year: SchoolYear | None
    starts_on: dt.date | None = None
    term_two_on: dt.date | None = None
    ends_on: dt.date | None = None
    classes: list[ClassStep] = field(default_factory=list)
    refusal: str | None = None  # why it cannot be applied (the page shows it)

    @property
    def name(self) -> str:
        return f"{self.starts_on.year}/{self.starts_on.year + 1}" if self.starts_on else ""

    @property
    def version(self) -> str:
        """The register the wizard showed (classes and their pupils, not the ticks): applying
        compares it, so a pupil enrolled or moved meanwhile is shown before the year moves."""
        shown = [
            (s.school_class.id, s.school_class.name, sorted(p.pupil.id for p in s.pupils))
            for s in self.classes
        ]
        year = self.old_year.id if self.old_year is not None else None
        return hashlib.sha256(repr((year, shown)).encode()).hexdigest()[:32]

    def count(self, action: str) -> int:
        return sum(1 for c in self.classes for p in c.pupils if p.action == action)


def year_to_roll(school: School, today: dt.date) -> SchoolYear | None:
    """The latest open year that has begun: the one the rollover closes."""
    return db.session.scalar(
        select(SchoolYear)
        .where(
            SchoolYear.school_id == school.id,
            SchoolYear.closed_at.is_(None),
            SchoolYear.starts_on <= today,
        )
        .order_by(SchoolYear.starts_on.desc())
        .limit(1)
    )


def make_rollover_plan(
    school: School, today: dt.date, repeaters: set[int], term_two_on: dt.date | None = None
) -> RolloverPlan:
    old = year_to_roll(school, today)
    plan = RolloverPlan(school, old)
    if old is None:
        plan.refusal = str(_l("Nie ma otwartego roku szkolnego do zamknięcia."))
        return plan
    plan.starts_on = first_school_day(old.ends_on.year)
    plan.ends_on = last_friday_of_june(old.ends_on.year + 1)
    plan.term_two_on = term_two_on or default_term_two(plan.starts_on)
    if not plan.starts_on < plan.term_two_on <= plan.ends_on:
        plan.refusal = str(_l("Drugi okres musi się zaczynać w trakcie nowego roku szkolnego."))
    if today <= old.ends_on:
        plan.refusal = str(
            _l(
                "Rok szkolny %(name)s trwa do %(day)s: nowy rok można przygotować po jego końcu.",
                name=old.name,
                day=old.ends_on.strftime("%d.%m.%Y"),
            )
        )
    classes = db.session.scalars(
        select(SchoolClass)
        .where(SchoolClass.year_id == old.id)
        .order_by(SchoolClass.grade_level, SchoolClass.name)
    ).all()
    pupils_of: dict[int, list[Pupil]] = {}
    # One query, not each class's `pupils` (a collection loaded earlier in the session would
    # not show a pupil enrolled since).
    for pupil in db.session.scalars(
        select(Pupil)
        .where(Pupil.class_id.in_([c.id for c in classes]), Pupil.active.is_(True))
        .order_by(Pupil.last_name, Pupil.first_name)
    ):
        pupils_of.setdefault(pupil.class_id, []).append(pupil)
    for school_class in classes:
        step = ClassStep(school_class, None)
        if school_class.grade_level < LAST_GRADE:
            step.new_name = promoted_name(school_class)
            if step.new_name is None:
                step.problem = str(
                    _l("Nazwa klasy nie zaczyna się od jej numeru: uczniowie zostają w niej.")
                )
        for pupil in pupils_of.get(school_class.id, []):
            if pupil.id in repeaters:
                step.pupils.append(PupilStep(pupil, REPEATS, school_class.name))
            elif school_class.grade_level >= LAST_GRADE:
                step.pupils.append(PupilStep(pupil, GRADUATES, None))
            elif step.new_name is not None:
                step.pupils.append(PupilStep(pupil, PROMOTED, step.new_name))
        plan.classes.append(step)
    return plan
