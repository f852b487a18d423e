"""Classification operations in-process: the calendar's arithmetic, proposals (on time and
late), final grades locked after the council, the director's correction, the acknowledgement,
and every refusal with nothing changed. The clock is pinned (tests/clock.py): 18 November 2026."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.classification.calendar import is_late, is_locked, proposal_deadline
from ediary.classification.models import GradeCorrection, ProposalAcknowledgement
from ediary.classification.operations import (
    Cell,
    acknowledge_proposals,
    calendar_state,
    correct_final_grade,
    save_sheet,
    set_classification_grade,
    set_council_calendar,
)
from ediary.classification.values import MAX_DESCRIPTIVE, VALUES, parse_final
from ediary.db import db
from ediary.demo.classification import council_for
from ediary.diary.models import Grade, GradeKind
from ediary.errors import Conflict, Refusal
from ediary.schools.operations import create_class, enrol_pupil
from ediary.timetable.operations import assign_teacher
from tests.classification.helpers import (
    COUNCIL,
    FAILING_DEADLINE,
    OTHER_DEADLINE,
    give,
    set_council,
    terms,
)
from tests.events import capture_events
from tests.factories import SYSTEM, World
from tests.gradebook.helpers import assignment_of

TODAY = dt.date(2026, 11, 18)


def _grades(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Grade)) or 0


def test_the_calendar_counts_back_from_the_council(world: World, session: Session) -> None:
    term = terms(world)[0]
    assert proposal_deadline(term, True) is None and not is_locked(term, TODAY)
    set_council(world)
    assert proposal_deadline(term, True) == FAILING_DEADLINE == dt.date(2026, 12, 21)
    assert proposal_deadline(term, False) == OTHER_DEADLINE == dt.date(2027, 1, 13)
    assert not is_late(term, False, OTHER_DEADLINE) and is_late(
        term, False, OTHER_DEADLINE + dt.timedelta(1)
    )
    assert not is_locked(term, COUNCIL)  # the council's own day is still open
    assert is_locked(term, COUNCIL + dt.timedelta(days=1))


def test_values_are_whole_grades_nkl_and_zw(world: World) -> None:
    assert VALUES == ("1", "2", "3", "4", "5", "6", "nkl", "zw")
    assert parse_final(" NKL ", descriptive=False).value == "nkl"
    for bad in ("4+", "0", "7", "5-", "np", "bz", "celujący"):
        with pytest.raises(Refusal) as refused:
            parse_final(bad, descriptive=False)
        assert refused.value.code == "grade_invalid_final"
        assert "1-6" in str(refused.value.message)


def test_a_proposal_reaches_the_parents_as_grade_proposed(world: World, session: Session) -> None:
    set_council(world)
    captured = capture_events(lambda: give(world, world.pupil, "4", today=TODAY), "grade.proposed")
    grade = captured.result
    assert grade is not None and grade.kind is GradeKind.PROPOSED_TERM and grade.value == "4"
    event = captured.of("grade.proposed")[0]
    assert event.audience_id == world.pupil.id
    assert event.payload["value"] == "4" and event.payload["late"] is False
    # Changed, then withdrawn: each reaches them too (a withdrawal has no value).
    changed = capture_events(
        lambda: give(world, world.pupil, "3", today=TODAY, seen=grade), "grade.proposed"
    )
    assert changed.result is grade and grade.value == "3"
    gone = capture_events(
        lambda: give(world, world.pupil, "", today=TODAY, seen=grade), "grade.proposed"
    )
    assert gone.result is None and grade.removed
    assert gone.of("grade.proposed")[0].payload["value"] is None


def test_a_late_proposal_is_saved_and_marked_late(world: World, session: Session) -> None:
    """Past the deadline a proposal is kept (the parents must still learn of it) and marked."""
    set_council(world)
    after_failing = FAILING_DEADLINE + dt.timedelta(days=1)
    one = capture_events(
        lambda: give(world, world.pupil, "1", today=after_failing), "grade.proposed"
    )
    assert one.result is not None and one.of("grade.proposed")[0].payload["late"] is True
    # A "4" the same day is before its own (later) deadline: on time.
    four = capture_events(
        lambda: give(world, world.classmate, "4", today=after_failing), "grade.proposed"
    )
    assert four.of("grade.proposed")[0].payload["late"] is False


def test_final_grades_are_locked_after_the_council(world: World, session: Session) -> None:
    set_council(world)
    final = give(world, world.pupil, "4", kind=GradeKind.TERM, today=COUNCIL)
    assert final is not None
    count = _grades(session)
    with pytest.raises(Refusal) as refused:
        give(
            world,
            world.pupil,
            "5",
            kind=GradeKind.TERM,
            today=COUNCIL + dt.timedelta(1),
            seen=final,
        )
    assert refused.value.code == "classification_locked"
    assert "dyrektor" in str(refused.value.message)
    with pytest.raises(Refusal):  # no new grade either, nor a proposal
        give(world, world.classmate, "3", kind=GradeKind.TERM, today=COUNCIL + dt.timedelta(1))
    assert final.value == "4" and _grades(session) == count
    # The same value again (a whole page re-sent) is no change, so no refusal.
    assert (
        give(
            world,
            world.pupil,
            "4",
            kind=GradeKind.TERM,
            today=COUNCIL + dt.timedelta(1),
            seen=final,
        )
        is final
    )


def test_the_directors_correction_keeps_the_reason_in_the_history(
    world: World, session: Session
) -> None:
    set_council(world)
    final = give(world, world.pupil, "2", kind=GradeKind.TERM, today=COUNCIL)
    assert final is not None
    director = Actor(world.school_admin, Channel.WEB)
    with pytest.raises(Refusal) as no_reason:
        correct_final_grade(director, final, "3", "  ", seen_version=final.version)
    assert no_reason.value.code == "reason_required"
    with pytest.raises(Refusal) as teacher:
        correct_final_grade(
            Actor(world.teacher, Channel.WEB), final, "3", "Błąd", seen_version=final.version
        )
    assert teacher.value.code == "not_director"
    with pytest.raises(Conflict):
        correct_final_grade(director, final, "3", "Błąd", seen_version=final.version + 1)
    correction = capture_events(
        lambda: correct_final_grade(
            director, final, "3", "Pomyłka przy przepisywaniu.", seen_version=final.version
        ),
        "grade.changed",
    ).result
    assert final.value == "3" and correction.old_value == "2" and correction.new_value == "3"
    history = session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "grade_corrections")
    ).all()
    assert [(h.new or {}).get("reason") for h in history] == ["Pomyłka przy przepisywaniu."]
    assert history[0].actor_id == world.school_admin.id
    changed = session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.entity == "grades",
            HistoryEntry.entity_id == final.id,
            HistoryEntry.action == "update",
        )
    ).one()
    assert changed.old == {"value": "2"} and changed.new == {"value": "3"}


def test_a_stale_page_conflicts(world: World, session: Session) -> None:
    set_council(world)
    first = give(world, world.pupil, "4", today=TODAY)
    assert first is not None
    with pytest.raises(Conflict):  # the page showed no proposal, there is one now
        give(world, world.pupil, "5", today=TODAY)
    stale_version = first.version
    give(world, world.pupil, "3", today=TODAY, seen=first)
    with pytest.raises(Conflict):
        save_sheet(
            Actor(world.teacher, Channel.WEB), assignment_of(world), terms(world)[0],
            [Cell(world.pupil, GradeKind.PROPOSED_TERM, "5", first.id, stale_version)], today=TODAY,
        )  # fmt: skip
    assert first.value == "3"


def test_a_sheet_with_one_bad_cell_saves_nothing(world: World, session: Session) -> None:
    count = _grades(session)
    with pytest.raises(Refusal) as refused:
        save_sheet(
            Actor(world.teacher, Channel.WEB), assignment_of(world), terms(world)[0],
            [Cell(world.classmate, GradeKind.PROPOSED_TERM, "5", None, None),
             Cell(world.pupil, GradeKind.PROPOSED_TERM, "4+", None, None)],
            today=TODAY,
        )  # fmt: skip
    assert refused.value.code == "sheet_invalid"
    assert set(refused.value.details["cells"]) == {f"proposed_term-{world.pupil.id}"}
    session.rollback()  # as the page does
    assert _grades(session) == count


def test_descriptive_grades_in_classes_1_to_3_have_a_size_limit(
    world: World, session: Session
) -> None:

    first = create_class(SYSTEM, world.year, "2a", 2)
    pupil = enrol_pupil(SYSTEM, first, "Ala", "Mała")
    assignment = assign_teacher(SYSTEM, world.teacher, first, world.math)
    term = terms(world)[0]
    actor = Actor(world.teacher, Channel.WEB)
    from ediary.classification.operations import set_classification_grade

    def opis(text: str) -> Grade | None:
        return set_classification_grade(
            actor, assignment, term, pupil, GradeKind.TERM, text,
            seen_grade_id=None, seen_version=None, today=TODAY,
        )  # fmt: skip

    with pytest.raises(Refusal) as refused:
        opis("x" * (MAX_DESCRIPTIVE + 1))
    assert refused.value.code == "grade_too_long"
    grade = opis("Pięknie czyta i liczy do stu.")
    assert grade is not None and grade.value is None
    assert (grade.descriptive or "").startswith("Pięknie")


def test_refusals_for_foreign_pupils_and_assignments(world: World, session: Session) -> None:
    term = terms(world)[0]

    with pytest.raises(Refusal) as foreign_pupil:
        set_classification_grade(
            Actor(world.teacher, Channel.WEB), assignment_of(world), term, world.pupil_b,
            GradeKind.PROPOSED_TERM, "4", seen_grade_id=None, seen_version=None, today=TODAY,
        )  # fmt: skip
    assert foreign_pupil.value.code == "pupil_not_in_assignment"
    with pytest.raises(Refusal) as not_mine:
        set_classification_grade(
            Actor(world.other_teacher, Channel.WEB), assignment_of(world), term, world.pupil,
            GradeKind.PROPOSED_TERM, "4", seen_grade_id=None, seen_version=None, today=TODAY,
        )  # fmt: skip
    assert not_mine.value.code == "not_your_assignment"
    with pytest.raises(Refusal) as year_kind:  # year grades belong to the last term
        give(world, world.pupil, "4", kind=GradeKind.YEAR, today=TODAY)
    assert year_kind.value.code == "kind_not_this_term"


def test_the_acknowledgement_is_one_row_however_often_pressed(
    world: World, session: Session
) -> None:
    term = terms(world)[0]
    parent = Actor(world.parent, Channel.WEB)
    with pytest.raises(Refusal) as nothing:
        acknowledge_proposals(parent, world.pupil, term, GradeKind.PROPOSED_TERM)
    assert nothing.value.code == "nothing_proposed"
    give(world, world.pupil, "5", today=TODAY)
    first = acknowledge_proposals(parent, world.pupil, term, GradeKind.PROPOSED_TERM)
    again = acknowledge_proposals(parent, world.pupil, term, GradeKind.PROPOSED_TERM)
    assert first is again
    rows = session.scalar(select(func.count()).select_from(ProposalAcknowledgement))
    assert rows == 1 and first.acknowledged_at.tzinfo is not None
    with pytest.raises(Refusal) as other:
        acknowledge_proposals(
            Actor(world.other_parent, Channel.WEB), world.pupil, term, GradeKind.PROPOSED_TERM
        )
    assert other.value.code == "not_guardian"


def test_only_the_director_sets_a_valid_calendar(world: World, session: Session) -> None:
    term = terms(world)[0]
    seen = calendar_state(world.school, [term])
    for actor, council, days, code in (
        (world.teacher, COUNCIL, 30, "not_director"),
        (world.school_admin, dt.date(2026, 8, 1), 30, "council_date_invalid"),
        (world.school_admin, COUNCIL, 500, "days_invalid"),
    ):
        with pytest.raises(Refusal) as refused:
            set_council_calendar(Actor(actor, Channel.WEB), world.school, councils={term: council},
                                 failing_days=days, other_days=7, seen=seen)  # fmt: skip
        assert refused.value.code == code
    assert term.council_on is None
    set_council(world)
    with pytest.raises(Conflict):  # the page showed no date; the director's other tab set one
        set_council_calendar(
            Actor(world.school_admin, Channel.WEB), world.school, councils={term: None},
            failing_days=30, other_days=7, seen=seen,
        )  # fmt: skip
    assert term.council_on == COUNCIL
    assert db.session.scalar(select(func.count()).select_from(GradeCorrection)) == 0


def test_the_demo_council_makes_the_first_proposals_due_next_week() -> None:
    # Wednesday 18 November 2026 → Wednesday 25 November, + 30 days.
    assert council_for(TODAY, 30, dt.date(2027, 6, 25)) == dt.date(2026, 12, 25)
    # A Sunday: the Wednesday after the next Monday.
    assert council_for(dt.date(2026, 11, 22), 30, dt.date(2027, 6, 25)) == dt.date(2026, 12, 25)
    assert council_for(dt.date(2027, 6, 1), 30, dt.date(2027, 6, 25)) == dt.date(2027, 6, 25)
