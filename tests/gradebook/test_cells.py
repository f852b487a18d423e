"""The gradebook's operations: a column, and a cell recorded, corrected, improved, withdrawn,
each through the diary's operations, so the parents' audience gets the kiosk's events; the
refusals; a stale cell is a Conflict and nothing changes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.diary.models import Grade
from ediary.errors import Conflict, Refusal
from ediary.gradebook.operations import cell_grades, create_assessment, read_typed
from ediary.gradebook.queries import build_grid, explain
from ediary.schools.models import ImprovementPolicy
from tests.events import capture_events
from tests.factories import SYSTEM, World
from tests.gradebook.helpers import assignment_of, change, column, type_in, web


def test_typing_reads_values_improvements_and_descriptive_text() -> None:
    assert read_typed(" 4+ ", 5) == read_typed("4+", 1)
    assert read_typed("4+", 5).value == "4+"
    assert read_typed("NP", 5).value == "np"
    assert read_typed("p5", 5).improve and read_typed("p 4-", 5).value == "4-"
    assert read_typed("Pięknie czyta", 2).descriptive == "Pięknie czyta"
    assert read_typed("Pięknie czyta", 5).descriptive is None  # only classes 1-3
    assert read_typed("", 5).value is None


def test_a_grade_typed_reaches_the_parents_like_a_kiosk_entry(
    world: World, session: Session
) -> None:
    test = column(world)
    captured = capture_events(lambda: type_in(world, test, world.pupil, "4+"), "grade.added")
    (event,) = captured.events
    assert event.audience == "pupil" and event.audience_id == world.pupil.id
    assert event.payload["value"] == "4+"
    assert event.payload["weight"] == world.test_category.weight
    assert event.payload["description"] == "sprawdzian: ułamki"
    grade = captured.result
    assert grade is not None and grade.assessment_id == test.id


def test_a_correction_keeps_the_old_value_in_the_history(world: World, session: Session) -> None:
    test = column(world)
    grade = type_in(world, test, world.pupil, "3")
    assert grade is not None
    captured = capture_events(
        lambda: type_in(world, test, world.pupil, "3+", seen=grade), "grade.changed"
    )
    assert captured.events[0].payload["value"] == "3+"
    entry = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "grades", HistoryEntry.entity_id == grade.id)
        .order_by(HistoryEntry.id)
    ).all()[-1]
    assert (entry.old, entry.new) == ({"value": "3"}, {"value": "3+"})
    assert entry.channel == "web"
    # The same again (Enter twice): nothing written, nothing published.
    capture_events(lambda: type_in(world, test, world.pupil, "3+", seen=grade))


def test_withdrawing_empties_the_cell_and_the_row_stays(world: World, session: Session) -> None:
    test = column(world)
    grade = type_in(world, test, world.pupil, "2")
    assert grade is not None
    captured = capture_events(
        lambda: type_in(world, test, world.pupil, "", seen=grade), "grade.removed"
    )
    assert captured.result is None and captured.events[0].audience_id == world.pupil.id
    assert session.get(Grade, grade.id) is not None and grade.removed
    assert cell_grades(test, world.pupil.id) == []


@pytest.mark.parametrize(
    ("policy", "average", "struck"),
    [
        (ImprovementPolicy.BOTH, Decimal("3.50"), False),
        (ImprovementPolicy.LATEST, Decimal("5.00"), True),
        (ImprovementPolicy.BETTER, Decimal("5.00"), True),
    ],
)
def test_an_improvement_stands_next_to_the_original_and_counts_by_the_statute(
    world: World, session: Session, policy: ImprovementPolicy, average: Decimal, struck: bool
) -> None:
    change(SYSTEM, world.school, improvement_policy=policy)
    test = column(world)
    original = type_in(world, test, world.pupil, "2")
    captured = capture_events(
        lambda: type_in(world, test, world.pupil, "p5", seen=original), "grade.added"
    )
    improvement = captured.result
    assert improvement is not None and improvement.improves_id == original.id  # type: ignore[union-attr]
    assert captured.events[0].payload["improves_id"] == original.id  # type: ignore[union-attr]
    grid = build_grid(assignment_of(world), world.year.terms[0], world.school)
    row = next(r for r in grid.rows if r.pupil.id == world.pupil.id)
    cell = row.cells[0]
    assert cell.grade is improvement and cell.earlier == [original]
    assert row.average.value == average
    assert (original.id not in row.counted) is struck  # type: ignore[union-attr]
    assert row.explanation.endswith(f"= {average}".replace(".", ","))


def test_the_average_is_explained(world: World, session: Session) -> None:
    test, quiz = column(world), column(world, "kartkówka")
    type_in(world, test, world.pupil, "4+")
    type_in(world, quiz, world.pupil, "3")
    grid = build_grid(assignment_of(world), world.year.terms[0], world.school)
    row = next(r for r in grid.rows if r.pupil.id == world.pupil.id)
    weight = world.test_category.weight
    assert explain(row.average) == (f"(4,5×{weight} + 3×{weight}) / {2 * weight} = 3,75")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("7", "grade_invalid"),
        ("6+", "grade_invalid"),
        ("dobrze", "grade_invalid"),
        ("p5", "nothing_to_improve"),
    ],
)
def test_a_grade_outside_the_scale_is_refused_and_nothing_published(
    world: World, session: Session, text: str, code: str
) -> None:
    test = column(world)

    def refused() -> None:
        with pytest.raises(Refusal) as refusal:
            type_in(world, test, world.pupil, text)
        assert refusal.value.code == code

    capture_events(refused)
    assert cell_grades(test, world.pupil.id) == []


def test_a_descriptive_grade_in_classes_1_to_3_and_its_size_limit(
    world: World, session: Session
) -> None:
    change(SYSTEM, world.class_a, grade_level=2)
    test = column(world)
    grade = type_in(world, test, world.pupil, "Pięknie czyta ze zrozumieniem.")
    assert grade is not None and grade.descriptive == "Pięknie czyta ze zrozumieniem."

    def too_long() -> None:
        with pytest.raises(Refusal, match="grade_too_long"):
            type_in(world, test, world.classmate, "x" * 5000)

    capture_events(too_long)


def test_a_weight_the_statute_does_not_allow_is_refused(world: World, session: Session) -> None:
    with pytest.raises(Refusal, match="weight_not_allowed"):
        create_assessment(
            web(world),
            assignment_of(world),
            category=world.test_category,
            given_on=world.today,
            weight=world.test_category.weight + 4,
        )
    with pytest.raises(Refusal, match="category_unknown"):
        create_assessment(web(world), assignment_of(world), category=None, given_on=world.today)


def test_a_stale_cell_is_a_conflict_and_nothing_is_overwritten(
    world: World, session: Session
) -> None:
    test = column(world)
    seen = type_in(world, test, world.pupil, "4")
    assert seen is not None
    shown_version = seen.version
    type_in(world, test, world.pupil, "5", seen=seen)  # the colleague's kiosk, or another tab

    def stale() -> None:
        with pytest.raises(Conflict) as conflict:
            from ediary.gradebook.operations import save_cell

            save_cell(
                web(world),
                test,
                world.pupil,
                "3",
                seen_grade_id=seen.id,
                seen_version=shown_version,
                today=world.today,
            )
        assert conflict.value.details["value"] == "5"

    capture_events(stale)
    assert seen.value == "5"

    # An empty cell that someone filled meanwhile: also a conflict, not a second grade.
    def filled() -> None:
        with pytest.raises(Conflict):
            type_in(world, test, world.pupil, "2")

    capture_events(filled)
    assert len(cell_grades(test, world.pupil.id)) == 1


def test_a_pupil_of_another_class_has_no_cell(world: World, session: Session) -> None:
    test = column(world)
    with pytest.raises(Refusal, match="pupil_not_in_grid"):
        type_in(world, test, world.pupil_b, "4")
