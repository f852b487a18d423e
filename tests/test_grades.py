"""Grades: what a teacher may type, and weighted averages under each school's statute."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ediary.audit.recording import Actor, Channel, operation
from ediary.diary.models import GradeKind
from ediary.diary.operations import correct_grade, record_grade, remove_grade
from ediary.diary.queries import grades_of, weighted_average
from ediary.diary.values import parse_grade
from ediary.errors import Conflict, Refusal
from ediary.schools.models import ImprovementPolicy
from tests.events import capture_events


@pytest.mark.parametrize("value", ["1", "1+", "3-", "4+", "6", "6-", "np", "bz", "+", "-", " 5 "])
def test_ongoing_values_accepted(value):
    assert parse_grade(GradeKind.ONGOING, value, None).value == value.strip()


@pytest.mark.parametrize("value", ["0", "7", "6+", "1-", "4++", "+4", "5,5", "abc", "np+"])
def test_ongoing_values_refused(app_ctx, value):
    with pytest.raises(Refusal) as refused:
        parse_grade(GradeKind.ONGOING, value, None)
    assert refused.value.code == "grade_invalid"
    assert "dozwolone" in str(refused.value.message)


@pytest.mark.parametrize("kind", [GradeKind.TERM, GradeKind.YEAR, GradeKind.PROPOSED_TERM])
@pytest.mark.parametrize("value", ["4+", "np", "+"])
def test_final_grades_are_whole_numbers(app_ctx, kind, value):
    with pytest.raises(Refusal) as refused:
        parse_grade(kind, value, None)
    assert refused.value.code == "grade_invalid_final"


def test_empty_and_both_refused(app_ctx):
    with pytest.raises(Refusal, match="grade_empty"):
        parse_grade(GradeKind.ONGOING, " ", None)
    with pytest.raises(Refusal, match="grade_both"):
        parse_grade(GradeKind.ONGOING, "5", "Pięknie czyta")


@operation
def _set_rules(actor, school, plus, minus, policy):
    school.plus_value, school.minus_value, school.improvement_policy = plus, minus, policy


def _grade(world, value, category=None, improves=None, day=0):
    return record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=world.pupil,
        subject=world.math,
        value=value,
        category=category,
        improves=improves,
        given_on=world.today - dt.timedelta(days=day),
    )


def test_no_grades_no_average(world, session):
    assert weighted_average([], world.school).value is None


def test_only_marks_no_average(world, session):
    for mark in ("np", "bz", "+", "-"):
        _grade(world, mark, world.test_category)
    assert weighted_average(grades_of(world.pupil), world.school).value is None


def test_weighted_average_by_hand(world, session):
    # sprawdzian (3): 5 and 4+ ; kartkówka (2): 3- ; no category (weight 1): 2 ; np ignored
    # default statute: + is worth 0.5, - is worth 0.25
    # (5*3 + 4.5*3 + 2.75*2 + 2*1) / (3+3+2+1) = (15 + 13.5 + 5.5 + 2) / 9 = 36 / 9 = 4.00
    _grade(world, "5", world.test_category)
    _grade(world, "4+", world.test_category)
    _grade(world, "3-", world.quiz_category)
    _grade(world, "2")
    _grade(world, "np", world.quiz_category)
    average = weighted_average(grades_of(world.pupil), world.school)
    assert average.value == Decimal("4.00")
    assert average.weights == 9
    assert [(t.value, t.worth, t.weight) for t in average.terms] == [
        ("5", Decimal(5), 3),
        ("4+", Decimal("4.5"), 3),
        ("3-", Decimal("2.75"), 2),
        ("2", Decimal(2), 1),
    ]


def test_modifier_values_come_from_the_statute(world, session):
    _set_rules(
        Actor.system(), world.school, Decimal("0.33"), Decimal("0.33"), ImprovementPolicy.BOTH
    )
    _grade(world, "4+", world.test_category)
    _grade(world, "4-", world.test_category)
    _grade(world, "5+", world.quiz_category)
    # (4.33*3 + 3.67*3 + 5.33*2) / 8 = (12.99 + 11.01 + 10.66) / 8 = 34.66 / 8 = 4.3325 → 4.33
    assert weighted_average(grades_of(world.pupil), world.school).value == Decimal("4.33")


def test_categories_that_do_not_count_and_removed_grades_are_left_out(world, session):
    from sqlalchemy import select

    from ediary.diary.models import GradeCategory

    other = session.scalars(
        select(GradeCategory).where(
            GradeCategory.school_id == world.school.id, GradeCategory.counts_to_average.is_(False)
        )
    ).first()
    _grade(world, "1", other)
    withdrawn = _grade(world, "1", world.test_category)
    capture_events(
        lambda: remove_grade(Actor(world.teacher, Channel.WEB), withdrawn), "grade.removed"
    )
    # Withdrawn already: again is nothing, and says nothing.
    capture_events(lambda: remove_grade(Actor(world.teacher, Channel.WEB), withdrawn))
    _grade(world, "5", world.quiz_category)
    assert weighted_average(grades_of(world.pupil), world.school).value == Decimal("5.00")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # original 2 (sprawdzian, 3), improvement 5 (sprawdzian, 3), plus 4 (kartkówka, 2)
        (ImprovementPolicy.BOTH, Decimal("3.63")),  # (2*3 + 5*3 + 4*2) / 8 = 29/8 = 3.625 → 3.63
        (ImprovementPolicy.LATEST, Decimal("4.60")),  # (15 + 8) / 5
        (ImprovementPolicy.BETTER, Decimal("4.60")),  # max(2, 5) = 5 → (15 + 8) / 5
    ],
)
def test_improvements_count_as_the_school_decides(world, session, policy, expected):
    _set_rules(Actor.system(), world.school, Decimal("0.5"), Decimal("0.25"), policy)
    original = _grade(world, "2", world.test_category, day=7)
    _grade(world, "5", world.test_category, improves=original, day=1)
    _grade(world, "4", world.quiz_category, day=2)
    assert weighted_average(grades_of(world.pupil), world.school).value == expected


def test_better_keeps_the_original_when_the_improvement_is_worse(world, session):
    _set_rules(
        Actor.system(), world.school, Decimal("0.5"), Decimal("0.25"), ImprovementPolicy.BETTER
    )
    original = _grade(world, "4", world.test_category, day=7)
    _grade(world, "2", world.test_category, improves=original, day=1)
    average = weighted_average(grades_of(world.pupil), world.school)
    assert average.value == Decimal("4.00") and [t.grade_id for t in average.terms] == [original.id]


def test_improvement_of_another_pupils_grade_is_refused(world, session):
    theirs = record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=world.classmate,
        subject=world.math,
        value="2",
        given_on=world.today,
    )
    with pytest.raises(Refusal, match="improves_invalid"):
        _grade(world, "5", improves=theirs)


def test_stale_correction_is_a_conflict_and_changes_nothing(world, session):
    grade = _grade(world, "3", world.test_category)
    seen = grade.version
    correct_grade(
        Actor(world.tutor, Channel.WEB),
        grade,
        value="4",
        category=world.test_category,
        base_version=seen,
    )

    def stale() -> None:
        with pytest.raises(Conflict) as conflict:
            correct_grade(
                Actor(world.teacher, Channel.KIOSK),
                grade,
                value="5",
                category=world.test_category,
                base_version=seen,
            )
        assert conflict.value.status == 409

    capture_events(stale)  # nothing published
    assert grade.value == "4"


def test_grade_outside_any_term_is_refused(world, session):
    with pytest.raises(Refusal, match="no_term"):
        record_grade(
            Actor(world.teacher, Channel.WEB),
            pupil=world.pupil,
            subject=world.math,
            value="5",
            given_on=world.year.ends_on + dt.timedelta(days=30),
        )


def test_descriptive_grade_and_category_of_another_school(world, session):
    grade = record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=world.pupil,
        subject=world.math,
        descriptive="Czyta płynnie i ze zrozumieniem.",
        given_on=world.today,
    )
    assert grade.value is None and (grade.descriptive or "").startswith("Czyta")
    from sqlalchemy import select

    from ediary.diary.models import GradeCategory

    foreign = session.scalars(
        select(GradeCategory).where(GradeCategory.school_id == world.other_school.id)
    ).first()
    with pytest.raises(Refusal, match="category_unknown"):
        _grade(world, "5", foreign)
