"""Changes of access are declared by the operations that make them, and a commit that changes
access without declaring it is refused (ediary/access/revocation.py): no code path can forget.

For every kind of access-bearing row, a raw write inside an operation (as a new operation that
forgot would make it) is refused at the commit, with nothing stored; the same write with its
declaration commits. Then every real operation that changes access rings its controls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ediary.access.revocation import (
    UndeclaredRevocation,
    access_changed,
    class_members_changed,
    group_members_changed,
    kiosk_cut_off,
    pupil_moved,
    sessions_ended,
)
from ediary.audit.models import HistoryEntry
from ediary.audit.recording import UnauditedWrite, operation
from ediary.db import db, utcnow
from ediary.kiosks.access import load_enrollment_code
from ediary.kiosks.operations import enroll_kiosk, issue_enrollment_code
from ediary.people.models import Membership, Role
from ediary.people.operations import grant_role, revoke_role, store_password_hash
from ediary.realtime.controls import ACCESS, KIOSK_REVOKED, SESSIONS
from ediary.schools.models import ClassGroup, GroupMembership, Guardianship, Pupil, SchoolClass
from ediary.schools.operations import (
    add_to_group,
    create_class,
    enrol_pupil,
    remove_from_group,
    set_form_tutor,
)
from ediary.timetable.models import TeachingAssignment
from ediary.timetable.operations import assign_teacher
from tests.factories import SYSTEM, World, _add

Change = Callable[[World], object]


@operation
def _run(actor: Any, change: Change, world: World) -> None:
    change(world)


def _group(world: World) -> ClassGroup:
    group = ClassGroup(school_id=world.school.id, class_id=world.class_b.id, name="ang. gr. 1")
    _add(SYSTEM, group)
    return group


def _membership(world: World) -> Membership:
    return next(m for m in world.secretary.memberships if m.role is Role.SECRETARY)


def _assignment(world: World) -> TeachingAssignment:
    return db.session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.teacher_id == world.teacher.id)
    ).one()


def _delete(row: object) -> None:
    db.session.delete(row)


def _unlink(world: World) -> None:
    _delete(
        db.session.scalars(
            select(Guardianship).where(Guardianship.user_id == world.parent.id)
        ).first()
    )


def _enrolled(world: World) -> None:
    world.kiosk.secret_hash = "sha256$" + "0" * 64  # a first enrollment: nobody to cut off


# Each kind of write that changes access, and the declaration it needs.
WRITES: dict[str, tuple[Change, Change]] = {
    "guardian linked": (
        lambda w: db.session.add(
            Guardianship(school_id=w.school.id, user_id=w.other_parent.id, pupil_id=w.classmate.id)
        ),
        lambda w: access_changed(w.other_parent.id),
    ),
    "guardian unlinked": (_unlink, lambda w: access_changed(w.parent.id)),
    "role granted": (
        lambda w: db.session.add(
            Membership(user=w.other_parent, role=Role.SECRETARY, school_id=w.school.id)
        ),
        lambda w: access_changed(w.other_parent.id),
    ),
    "role removed": (
        lambda w: _delete(_membership(w)),
        lambda w: access_changed(w.secretary.id),
    ),
    "role changed": (
        lambda w: setattr(_membership(w), "role", Role.SCHOOL_ADMIN),
        lambda w: access_changed(w.secretary.id),
    ),
    "teaching assignment": (
        lambda w: db.session.add(
            TeachingAssignment(
                school_id=w.school.id,
                teacher_id=w.other_teacher.id,
                class_id=w.class_a.id,
                subject_id=w.math.id,
            )
        ),
        lambda w: access_changed(w.other_teacher.id),
    ),
    "assignment handed over": (
        lambda w: setattr(_assignment(w), "teacher_id", w.other_teacher.id),
        lambda w: access_changed(w.teacher.id, w.other_teacher.id),
    ),
    "form tutor": (
        lambda w: setattr(w.class_a, "form_tutor_id", w.other_teacher.id),
        lambda w: access_changed(w.tutor.id, w.other_teacher.id),
    ),
    "new class with a tutor": (
        lambda w: db.session.add(
            SchoolClass(
                school_id=w.school.id,
                year_id=w.year.id,
                name="5c",
                grade_level=5,
                form_tutor_id=w.teacher.id,
            )
        ),
        lambda w: access_changed(w.teacher.id),
    ),
    "group membership": (
        lambda w: db.session.add(GroupMembership(group_id=_group(w).id, pupil_id=w.pupil_b.id)),
        lambda w: group_members_changed(*db.session.scalars(select(ClassGroup.id))),
    ),
    "a pupil's class": (
        lambda w: setattr(w.classmate, "class_id", w.class_b.id),
        lambda w: pupil_moved(w.classmate, w.class_a.id),
    ),
    "new pupil": (
        lambda w: db.session.add(
            Pupil(school_id=w.school.id, class_id=w.class_a.id, first_name="Ala", last_name="Nowa")
        ),
        lambda w: class_members_changed(w.class_a.id),
    ),
    "logout everywhere": (
        lambda w: setattr(w.parent, "session_version", w.parent.session_version + 1),
        lambda w: sessions_ended(w.parent),
    ),
    "account disabled": (
        lambda w: setattr(w.parent, "active", False),
        lambda w: sessions_ended(w.parent),
    ),
    "kiosk revoked": (
        lambda w: setattr(w.kiosk, "revoked_at", utcnow()),
        lambda w: kiosk_cut_off(w.kiosk),
    ),
    "kiosk secret replaced": (
        lambda w: setattr(w.kiosk, "secret_hash", "sha256$" + "1" * 64),
        lambda w: kiosk_cut_off(w.kiosk),
    ),
}


def _history() -> int:
    return db.session.scalar(select(func.count(HistoryEntry.id))) or 0


@pytest.fixture
def committed(world: World, session: Any) -> World:
    _run(SYSTEM, _enrolled, world)
    session.commit()
    return world


@pytest.mark.parametrize("kind", list(WRITES))
def test_a_change_of_access_commits_only_with_its_declaration(
    committed: World, session: Any, kind: str
) -> None:
    write, declare = WRITES[kind]
    before = _history()
    _run(SYSTEM, write, committed)
    with pytest.raises(UndeclaredRevocation):
        session.commit()
    session.rollback()
    assert _history() == before  # nothing of it was stored
    _run(SYSTEM, lambda w: (write(w), declare(w)), committed)
    session.commit()
    assert _history() > before


def test_declaring_outside_an_operation_is_refused(world: World, session: Any) -> None:
    with pytest.raises(UnauditedWrite):
        access_changed(world.parent.id)
    with pytest.raises(UnauditedWrite):
        sessions_ended(world.parent)


def test_a_change_undone_with_its_savepoint_needs_no_declaration(
    committed: World, session: Any
) -> None:
    savepoint = session.begin_nested()
    _run(SYSTEM, WRITES["guardian unlinked"][0], committed)
    savepoint.rollback()
    session.commit()  # the unlinking never happened: nothing to declare


# --- every operation that changes access declares it ---------------------------------------


def _reenroll(world: World) -> None:
    code = load_enrollment_code(issue_enrollment_code(SYSTEM, world.kiosk))
    assert code is not None
    enroll_kiosk(SYSTEM, code, utcnow())


def _group_of_english(world: World) -> ClassGroup:
    group = _group(world)
    assign_teacher(SYSTEM, world.other_teacher, world.class_b, world.math, group)
    add_to_group(SYSTEM, group, world.pupil_b)
    return group


OPERATIONS: dict[str, tuple[Change, Callable[[World], set[tuple[str, int]]]]] = {
    "grant_role": (
        lambda w: grant_role(SYSTEM, w.parent, Role.SECRETARY, school_id=w.school.id),
        lambda w: {(ACCESS, w.parent.id)},
    ),
    "revoke_role": (
        lambda w: revoke_role(SYSTEM, w.secretary, Role.SECRETARY, school_id=w.school.id),
        lambda w: {(ACCESS, w.secretary.id)},
    ),
    "assign_teacher": (
        lambda w: assign_teacher(SYSTEM, w.other_teacher, w.class_a, w.math),
        lambda w: {(ACCESS, w.other_teacher.id)},
    ),
    "set_form_tutor": (
        lambda w: set_form_tutor(SYSTEM, w.class_a, w.other_teacher),
        lambda w: {(ACCESS, w.tutor.id), (ACCESS, w.other_teacher.id)},
    ),
    "create_class": (
        lambda w: create_class(SYSTEM, w.year, "5c", 5, w.teacher),
        lambda w: {(ACCESS, w.teacher.id)},
    ),
    "enrol_pupil": (
        lambda w: enrol_pupil(SYSTEM, w.class_a, "Ala", "Nowa"),
        lambda w: {(ACCESS, w.tutor.id), (ACCESS, w.teacher.id)},  # 5a's tutor and teacher
    ),
    "remove_from_group": (
        lambda w: remove_from_group(
            SYSTEM, db.session.scalars(select(ClassGroup)).one(), w.pupil_b
        ),
        lambda w: {(ACCESS, w.other_teacher.id)},
    ),
    "store_password_hash": (
        lambda w: store_password_hash(SYSTEM, w.parent, "argon2$whatever"),
        lambda w: {(SESSIONS, w.parent.id)},
    ),
    "enroll_kiosk (again)": (_reenroll, lambda w: {(KIOSK_REVOKED, w.kiosk.id)}),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_each_operation_that_changes_access_rings_its_controls(
    committed: World, session: Any, rings: list[Any], name: str
) -> None:
    change, expected = OPERATIONS[name]
    if name == "remove_from_group":
        _group_of_english(committed)
        session.commit()
    rings.clear()
    change(committed)
    session.commit()
    assert len(rings) == 1
    _newest, controls = rings[0]
    assert {(c.kind, c.target) for c in controls} == expected(committed)
    assert len(controls) == len(expected(committed))  # each once


def test_a_revoked_role_leaves_the_persons_memberships(committed: World, session: Any) -> None:
    revoke_role(SYSTEM, committed.secretary, Role.SECRETARY, school_id=committed.school.id)
    session.commit()
    assert committed.secretary.memberships == []
    assert (
        session.scalars(
            select(Membership).where(Membership.user_id == committed.secretary.id)
        ).all()
        == []
    )
    deleted = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "memberships", HistoryEntry.action == "delete")
        .order_by(HistoryEntry.id)
    ).one()
    assert deleted.old["user_id"] == committed.secretary.id  # the history keeps the role held


def test_the_new_structure_operations_refuse_what_does_not_fit(
    committed: World, session: Any, rings: list[Any]
) -> None:
    """A pupil moves only within their school, joins only a group of their class, and an
    assignment's group is one of its class: each refusal changes nothing."""
    from ediary.errors import Refusal
    from ediary.schools.operations import move_pupil

    group = _group(committed)  # a group of 5b
    session.commit()
    rings.clear()
    before = _history()
    refusals = [
        lambda: move_pupil(SYSTEM, committed.pupil, committed.class_other_school),
        lambda: add_to_group(SYSTEM, group, committed.pupil),  # 5a's pupil
        lambda: assign_teacher(SYSTEM, committed.teacher, committed.class_a, committed.math, group),
    ]
    codes = []
    for attempt in refusals:
        with pytest.raises(Refusal) as refused:
            attempt()
        codes.append(refused.value.code)
        session.rollback()
    assert codes == ["class_other_school", "pupil_not_in_class", "group_other_class"]
    assert _history() == before and rings == []
