"""The gradebook's writes: a column (assessment) and a cell (a pupil's grade in a column).

A cell is saved through the diary's own operations (`record_grade`, `correct_grade`,
`remove_grade`), so a grade typed in the grid reaches the parents exactly as one from the kiosk:
the same history rows, the same journal events (`grade.added`, `grade.changed`,
`grade.removed`). What the grid adds is the cell's compare-and-set: the page sends the grade
and version it showed, and a cell that changed meanwhile is a `Conflict`, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.diary.models import Grade, GradeCategory, GradeKind
from ediary.diary.operations import correct_grade, record_grade, remove_grade
from ediary.diary.operations.grades import MAX_DESCRIPTION
from ediary.diary.values import ONGOING
from ediary.errors import Conflict, Refusal
from ediary.gradebook.models import Assessment
from ediary.gradingrules.years import rules_for_term
from ediary.schools.models import GroupMembership, Pupil, SchoolClass, Subject
from ediary.timetable.models import TeachingAssignment
from ediary.timetable.queries import term_on

# Descriptive grades (ocena opisowa) are the statute's for classes 1-3 of primary school.
DESCRIPTIVE_UP_TO = 3
_IMPROVEMENT = re.compile(r"^p\s*:?\s*(\S+)$")


@operation
def create_assessment(
    actor: Actor,
    assignment: TeachingAssignment,
    *,
    category: GradeCategory | None,
    given_on: dt.date,
    description: str | None = None,
    weight: int | None = None,
) -> Assessment:
    """A new column. Its weight is its category's, from the statute: a page that sends another
    weight (an old page, a crafted form) is refused rather than silently given another."""
    if category is None or category.school_id != assignment.school_id:
        raise Refusal("category_unknown", _l("Wybierz kategorię oceny ze statutu szkoły."))
    description = (description or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise Refusal("description_too_long", _l("Opis oceny jest za długi."))
    term = term_on(assignment.school_id, given_on)
    if term is None:
        raise Refusal("no_term", _l("Ta data nie należy do żadnego okresu roku szkolnego."))
    allowed = rules_for_term(term.id).category(category)[0]  # the statute of the term's year
    if weight is not None and weight != allowed:
        raise Refusal(
            "weight_not_allowed",
            _l(
                "Statut szkoły nie przewiduje wagi %(weight)s dla kategorii „%(category)s” "
                "(waga: %(allowed)s).",
                weight=weight,
                category=category.name,
                allowed=allowed,
            ),
        )
    assessment = Assessment(
        school_id=assignment.school_id,
        assignment_id=assignment.id,
        term_id=term.id,
        category_id=category.id,
        description=description,
        given_on=given_on,
    )
    db.session.add(assessment)
    db.session.flush()
    return assessment


@dataclass(frozen=True)
class Typed:
    """What a teacher typed into a cell, read: an improvement (`p5`), a value or a text."""

    improve: bool
    value: str | None
    descriptive: str | None


def read_typed(text: str, grade_level: int) -> Typed:
    """`4+`, `np`, `bz`, `+`, `-` are values; `p5` (or `p 4+`) an improvement of the cell's
    grade; any other text with a letter in it, in classes 1-3, a descriptive grade. Empty: the
    cell is to be emptied (the grade withdrawn). What is wrong is left to `parse_grade`."""
    text = text.strip()
    lowered = text.lower()
    if lowered in ONGOING or not text:
        return Typed(False, lowered or None, None)
    improvement = _IMPROVEMENT.match(lowered)
    if improvement is not None and improvement.group(1) in ONGOING:
        return Typed(True, improvement.group(1), None)
    if grade_level <= DESCRIPTIVE_UP_TO and any(c.isalpha() for c in text):
        return Typed(False, None, text)
    return Typed(False, lowered, None)


def cell_grades(assessment: Assessment, pupil_id: int) -> list[Grade]:
    """The cell's grades, oldest first: the original, then its improvements."""
    query = (
        select(Grade)
        .where(
            Grade.assessment_id == assessment.id,
            Grade.pupil_id == pupil_id,
            Grade.removed.is_(False),
        )
        .order_by(Grade.id)
    )
    return list(db.session.scalars(query))


def _in_grid(assignment: TeachingAssignment, pupil: Pupil) -> bool:
    if pupil.class_id != assignment.class_id or not pupil.active:
        return False
    if assignment.group_id is None:
        return True
    member = db.session.scalar(
        select(GroupMembership.id).where(
            GroupMembership.group_id == assignment.group_id,
            GroupMembership.pupil_id == pupil.id,
        )
    )
    return member is not None


def _stale(current: Grade | None) -> Conflict:
    return Conflict(
        "stale_cell",
        _l(
            "Ktoś zmienił tę kratkę w międzyczasie: teraz „%(value)s”. Nic nie nadpisano; "
            "wpisz ocenę ponownie, jeśli nadal chcesz ją zmienić.",
            value=shown(current) or "—",
        ),
        grade_id=current.id if current is not None else None,
        current_version=current.version if current is not None else None,
        value=shown(current),
    )


def _same(current: Grade | None, typed: Typed) -> bool:
    if current is None:
        return typed.value is None and typed.descriptive is None and not typed.improve
    return not typed.improve and (typed.value, typed.descriptive) == (
        current.value,
        current.descriptive,
    )


def shown(grade: Grade | None) -> str:
    """A grade as its cell shows it."""
    if grade is None:
        return ""
    return grade.value if grade.value is not None else (grade.descriptive or "")


@operation
def save_cell(
    actor: Actor,
    assessment: Assessment,
    pupil: Pupil,
    text: str,
    *,
    seen_grade_id: int | None,
    seen_version: int | None,
    today: dt.date,
) -> Grade | None:
    """One keystroke's worth of work: record, correct, improve or withdraw the cell's grade.

    `seen_*` is what the page showed (no grade: an empty cell). Anything else on the server is
    a Conflict carrying the server's value for the page to show; nothing is written.
    Returns the cell's grade afterwards (None when it was withdrawn)."""
    if assessment.removed:
        raise Refusal("assessment_removed", _l("Ta kolumna została usunięta."))
    assignment = db.session.get(TeachingAssignment, assessment.assignment_id)
    if assignment is None or not _in_grid(assignment, pupil):
        raise Refusal("pupil_not_in_grid", _l("Ten uczeń nie należy do tej klasy lub grupy."))
    grades = cell_grades(assessment, pupil.id)
    current = grades[-1] if grades else None
    school_class = db.session.get(SchoolClass, assignment.class_id)
    level = school_class.grade_level if school_class is not None else 99
    typed = read_typed(text, level)
    if (current.id if current else None) != seen_grade_id or (
        current is not None and current.version != seen_version
    ):
        if _same(current, typed):
            return current  # this very save, sent twice: harmless
        raise _stale(current)
    if current is not None and not typed.improve and typed.value is None and not typed.descriptive:
        remove_grade(actor, current, base_version=seen_version)
        return grades[-2] if len(grades) > 1 else None
    if current is not None and not typed.improve:
        if _same(current, typed):
            return current  # the same again (Enter twice): nothing to write
        return correct_grade(
            actor,
            current,
            value=typed.value,
            descriptive=typed.descriptive,
            category=current.category,
            description=current.description,
            base_version=seen_version,
        )
    if typed.improve and current is None:
        raise Refusal("nothing_to_improve", _l("Poprawa wymaga oceny w tej kratce."))
    subject = db.session.get(Subject, assignment.subject_id)
    assert subject is not None
    return record_grade(
        actor,
        pupil=pupil,
        subject=subject,
        value=typed.value,
        descriptive=typed.descriptive,
        kind=GradeKind.ONGOING,
        category=assessment.category,
        description=assessment.description,
        given_on=today if typed.improve else assessment.given_on,
        improves=current if typed.improve else None,
        assessment_id=assessment.id,
    )


@dataclass
class ColumnSaved:
    saved: int
    problems: dict[int, Refusal]  # pupil id → why that cell was not saved (a conflict, a typo)


@dataclass(frozen=True)
class Entry:
    pupil: Pupil
    text: str
    seen_grade_id: int | None
    seen_version: int | None


@operation
def save_column(
    actor: Actor, assessment: Assessment, entries: list[Entry], *, today: dt.date
) -> ColumnSaved:
    """A whole column from the plain form (no JavaScript): each changed cell as `save_cell`.
    A cell that is refused or changed meanwhile is reported and skipped: `save_cell` refuses
    before it writes anything, so the others are saved as typed, like the roll's pupils."""
    done = ColumnSaved(0, {})
    for entry in entries:
        try:
            save_cell(
                actor,
                assessment,
                entry.pupil,
                entry.text,
                seen_grade_id=entry.seen_grade_id,
                seen_version=entry.seen_version,
                today=today,
            )
        except Refusal as refusal:
            done.problems[entry.pupil.id] = refusal
        else:
            done.saved += 1
    return done
