"""The rollover applied: one operation (with its history) that does what the dry run showed.

It is computed again inside the transaction (`make_rollover_plan`), so what is applied is what
the register holds at that moment. The new year, its classes and the copied teaching
assignments are reused when they exist, so an interrupted or repeated run never doubles them;
once the old year is closed there is nothing left to roll over and a second run is refused
having changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ediary.access.revocation import access_changed
from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.gradingrules.operations import copy_rules
from ediary.office.rollover.plan import GRADUATES, RolloverPlan
from ediary.people.models import User
from ediary.schools.models import SchoolClass, SchoolYear
from ediary.schools.operations import create_class, create_school_year, move_pupil
from ediary.timetable.models import TeachingAssignment

LEAVE_REASON = "ukończenie szkoły"  # as the register writes it


@dataclass
class RolloverResult:
    year: SchoolYear
    classes_created: int = 0
    promoted: int = 0
    repeating: int = 0
    graduated: int = 0


@operation
def roll_over(actor: Actor, plan: RolloverPlan) -> RolloverResult:
    if plan.refusal is not None or plan.old_year is None:
        raise Refusal("rollover_refused", plan.refusal or "")
    assert plan.starts_on and plan.term_two_on and plan.ends_on
    old = plan.old_year
    year = db.session.scalar(
        select(SchoolYear).where(
            SchoolYear.school_id == plan.school.id, SchoolYear.starts_on == plan.starts_on
        )
    ) or create_school_year(actor, plan.school, plan.starts_on, plan.term_two_on, plan.ends_on)
    copy_rules(plan.school, old, year)  # the statute's rules carry over; the new year edits its own
    result = RolloverResult(year)
    new_classes = {
        c.name: c
        for c in db.session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id))
    }

    def class_named(name: str, grade: int, like: SchoolClass, tutor: bool) -> SchoolClass:
        found = new_classes.get(name)
        if found is None:
            tutor_user = (
                db.session.get(User, like.form_tutor_id) if tutor and like.form_tutor_id else None
            )
            found = create_class(actor, year, name, grade, tutor_user)
            new_classes[name] = found
            result.classes_created += 1
        return found

    for step in plan.classes:
        old_class = step.school_class
        promoted = None
        if step.new_name is not None:
            promoted = class_named(step.new_name, old_class.grade_level + 1, old_class, tutor=True)
            _copy_assignments(old_class, promoted)
        for pupil_step in step.pupils:
            pupil = pupil_step.pupil
            if pupil_step.action == GRADUATES:
                pupil.active = False
                pupil.left_on = old.ends_on
                pupil.leave_reason = LEAVE_REASON
                result.graduated += 1
            elif promoted is not None and pupil_step.to_class == promoted.name:
                move_pupil(actor, pupil, promoted)
                result.promoted += 1
            else:  # repeats: the new year's class of the same name
                again = class_named(old_class.name, old_class.grade_level, old_class, tutor=False)
                move_pupil(actor, pupil, again)
                result.repeating += 1
    old.closed_at = utcnow()
    return result


def _copy_assignments(old_class: SchoolClass, new_class: SchoolClass) -> None:
    """The class's teachers go up with it (whole-class assignments; groups are formed anew in
    September); the office changes them in the timetable as usual."""
    have = {
        (a.teacher_id, a.subject_id)
        for a in db.session.scalars(
            select(TeachingAssignment).where(TeachingAssignment.class_id == new_class.id)
        )
    }
    for assignment in db.session.scalars(
        select(TeachingAssignment).where(
            TeachingAssignment.class_id == old_class.id, TeachingAssignment.group_id.is_(None)
        )
    ):
        if (assignment.teacher_id, assignment.subject_id) in have:
            continue
        db.session.add(
            TeachingAssignment(
                school_id=new_class.school_id,
                teacher_id=assignment.teacher_id,
                class_id=new_class.id,
                subject_id=assignment.subject_id,
            )
        )
        have.add((assignment.teacher_id, assignment.subject_id))
        access_changed(assignment.teacher_id)
