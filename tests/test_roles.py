"""Scopes of every role (DESIGN.md), on the predicates shared by views, kiosk API and sockets."""

from __future__ import annotations

import pytest

from ediary.access import roles

# actor → (may read world.pupil, may read class 5a, may record in world.lesson)
EXPECTED = {
    "parent": (True, False, False),
    "other_parent": (False, False, False),
    "teacher": (True, True, True),
    "tutor": (True, True, False),
    "other_teacher": (False, False, False),
    "secretary": (True, True, False),
    "school_admin": (True, True, False),
    "other_secretary": (False, False, False),
    "other_school_admin": (False, False, False),
    "district_admin": (False, False, False),
    "other_district_admin": (False, False, False),
}


@pytest.mark.parametrize("actor", sorted(EXPECTED))
def test_scope(world, session, actor):
    user = getattr(world, actor)
    got = (
        roles.can_read_pupil(user, world.pupil),
        roles.can_read_class(user, world.class_a),
        roles.can_record_in_lesson(user, world.lesson),
    )
    assert got == EXPECTED[actor]


def test_district_admin_sees_only_their_gmina(world, session):
    assert roles.is_district_admin(world.district_admin, world.district.id)
    assert not roles.is_district_admin(world.district_admin, world.other_district.id)
    assert not roles.is_district_admin(world.school_admin, world.district.id)


def test_a_parent_sees_each_linked_child_and_no_other(world, session):
    assert roles.can_read_pupil(world.parent, world.sibling)
    assert not roles.can_read_pupil(world.parent, world.classmate)
    assert not roles.can_read_pupil(world.parent, world.pupil_other_school)


def test_a_group_teacher_reads_only_the_group(world, session):
    from ediary.schools.models import ClassGroup, GroupMembership
    from ediary.timetable.models import TeachingAssignment
    from tests.factories import SYSTEM, _add, make_subject

    english = make_subject(world.school, "język angielski", "ang")
    group = ClassGroup(school_id=world.school.id, class_id=world.class_b.id, name="ang. gr. 1")
    _add(SYSTEM, group)
    _add(
        SYSTEM,
        GroupMembership(group_id=group.id, pupil_id=world.pupil_b.id),
        TeachingAssignment(
            school_id=world.school.id,
            teacher_id=world.teacher.id,
            class_id=world.class_b.id,
            group_id=group.id,
            subject_id=english.id,
        ),
    )
    assert roles.can_read_pupil(world.teacher, world.pupil_b)
    assert not roles.can_read_pupil(world.teacher, world.sibling)  # 5b, not in the group
