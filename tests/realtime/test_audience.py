"""Audience of every event type in the catalogue: who receives it live, and who gets it on replay.

Each type is produced by the real operation that writes it. For every person of the test world
the live rule (`Scope.sees`, which decides the rooms) and the replay rule (`journal_filter`,
the SQL of a resume) must both agree with the read predicates of ediary/access/roles.py. The
socket tests (test_live.py) then prove the rooms themselves over a real server.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ediary.access import roles
from ediary.access.scope import scope_of
from ediary.audit.recording import Actor, Channel, operation
from ediary.classification.operations import set_classification_grade
from ediary.council.models import BehaviourKind
from ediary.council.operations import set_behaviour
from ediary.db import db
from ediary.diary.models import GradeKind, RemarkKind
from ediary.diary.operations import (
    add_remark,
    correct_grade,
    correct_remark,
    record_grade,
    remove_grade,
    remove_remark,
    submit_roll,
)
from ediary.excuses.operations import decide_excuses, request_excuse
from ediary.homework.models import HomeworkKind
from ediary.homework.operations import announce
from ediary.journal.catalogue import EVENT_TYPES
from ediary.journal.models import JournalEvent
from ediary.journal.operations import publish
from ediary.messages.operations import mark_read, publish_announcement, start_thread
from ediary.people.models import User
from ediary.realtime.rooms import event_rooms, journal_filter, rooms_of
from ediary.schools.models import ClassGroup, GroupMembership, Pupil, SchoolClass
from ediary.timetable.models import TeachingAssignment
from ediary.timetable.operations import cancel_lesson, substitute_lesson
from ediary.timetable.regenerate import apply_timetable
from tests.factories import SYSTEM, World, _add, make_lesson, make_subject

PEOPLE = (
    "teacher",
    "tutor",
    "other_teacher",
    "parent",
    "other_parent",
    "secretary",
    "school_admin",
    "other_secretary",
    "other_school_admin",
    "district_admin",
    "other_district_admin",
)


@operation
def _revoke_kiosk_event(actor: Actor, world: World) -> None:
    # The kiosk issue owns the revoke operation; the event and its audience are declared here.
    publish(
        "kiosk.revoked",
        school_id=world.school.id,
        audience_id=world.kiosk.id,
        kiosk_id=world.kiosk.id,
    )


def _every_event_type(world: World) -> list[JournalEvent]:
    """At least one event of each catalogue type, about pupils and classes of both schools."""
    teacher = Actor(world.teacher, Channel.WEB)
    submit_roll(teacher, world.lesson, {world.pupil.id: "nb"}, topic="Ułamki", base=None)
    grade = record_grade(
        teacher, pupil=world.pupil, subject=world.math, value="4", given_on=world.today
    )
    correct_grade(teacher, grade, value="4+")
    remove_grade(teacher, grade)
    remark = add_remark(
        teacher,
        pupil=world.classmate,
        kind=RemarkKind.POSITIVE,
        text="Pomaga innym.",
        given_on=world.today,
    )
    correct_remark(teacher, remark, kind=RemarkKind.POSITIVE, text="Pomaga innym w nauce.")
    remove_remark(teacher, remark)
    other_lesson = make_lesson(
        world.school,
        world.class_b,
        world.math,
        world.other_teacher,
        world.room,
        world.today,
        slot_number=2,
    )
    substitute_lesson(Actor(world.school_admin, Channel.WEB), other_lesson, world.teacher)
    cancel_lesson(Actor(world.school_admin, Channel.WEB), other_lesson)
    record_grade(
        Actor(world.other_teacher, Channel.WEB),
        pupil=world.sibling,
        subject=world.math,
        value="5",
        given_on=world.today,
    )
    record_grade(
        Actor(world.other_teacher, Channel.WEB),
        pupil=world.pupil_b,
        subject=world.math,
        value="3",
        given_on=world.today,
    )
    foreign_subject = make_subject(world.other_school, "matematyka", "mat")
    record_grade(
        Actor(world.other_school_admin, Channel.WEB),
        pupil=world.pupil_other_school,
        subject=foreign_subject,
        value="2",
        given_on=world.today,
    )
    _revoke_kiosk_event(SYSTEM, world)
    # Classification (issue 15, item 5): a proposed term grade of 5a mathematics.
    assignment = db.session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.teacher_id == world.teacher.id)
    ).one()
    first_term = min(world.year.terms, key=lambda t: t.number)
    set_classification_grade(
        teacher, assignment, first_term, world.pupil, GradeKind.PROPOSED_TERM, "3",
        seen_grade_id=None, seen_version=None, today=world.today,
    )  # fmt: skip
    # Excuses (issue 5): the guardian asks, the form tutor decides.
    excuse = request_excuse(
        Actor(world.parent, Channel.WEB),
        world.pupil,
        absences=[],
        future_days=[world.today],
        reason="Wizyta u lekarza.",
        note=None,
        today=world.today,
    )
    decide_excuses(Actor(world.tutor, Channel.WEB), [excuse], approve=True)
    # A test announced for 5b's lesson (issue 18): the class's, not 5a's parents.
    announce(
        Actor(world.other_teacher, Channel.WEB),
        make_lesson(
            world.school, world.class_b, world.math, world.other_teacher, world.room,
            world.today, slot_number=3,
        ),
        kind=HomeworkKind.TEST, description="Ułamki", due_date=None, today=world.today,
    )  # fmt: skip
    # The timetable applied from today (issue 14): each class whose future lessons changed.
    apply_timetable(Actor(world.school_admin, Channel.WEB), world.school, world.today)
    # Behaviour (issue 15 item 5): the form tutor's proposed grade.
    set_behaviour(Actor(world.tutor, Channel.WEB), world.pupil, world.year.terms[0],
                  kind=BehaviourKind.PROPOSED, value="wzorowe", base_version=None,
                  today=world.today)  # fmt: skip
    # Messages and announcements (issue 18): a parent writes to the tutor, who opens it; the
    # director announces to the school (one event per class).
    thread = start_thread(
        Actor(world.parent, Channel.WEB),
        recipient_id=world.tutor.id,
        school_id=world.school.id,
        subject="Pytanie",
        body="Dzień dobry",
    )
    tutor_place = next(p for p in thread.participants if p.user_id == world.tutor.id)
    mark_read(Actor(world.tutor, Channel.WEB), tutor_place)
    publish_announcement(
        Actor(world.school_admin, Channel.WEB),
        school_id=world.school.id,
        class_id=None,
        title="Dzień otwarty",
        body="Zapraszamy.",
        expires_on=world.today,
        today=world.today,
    )
    db.session.commit()  # the journal rows get their ids at the commit (realtime/delivery.py)
    return list(db.session.scalars(select(JournalEvent).order_by(JournalEvent.id)))


def _may_see(user: User, event: JournalEvent) -> bool:
    """The read predicates of the access package: the definition of the audience."""
    if event.audience == "pupil":
        return roles.can_read_pupil(user, db.session.get_one(Pupil, event.audience_id))
    if event.audience == "class":
        school_class = db.session.get_one(SchoolClass, event.audience_id)
        return roles.can_read_class(user, school_class) or any(
            roles.is_guardian_of(user, pupil.id) for pupil in school_class.pupils
        )
    if event.audience == "person":
        return event.audience_id == user.id  # one person's messages: nobody else's
    return False  # a kiosk's events go to the device, to no person


def test_every_catalogue_type_reaches_exactly_its_audience(world: World, session: object) -> None:
    events = _every_event_type(world)
    assert {e.type for e in events} == set(EVENT_TYPES)
    for name in PEOPLE:
        user = getattr(world, name)
        scope = scope_of(user)
        replayed = set(db.session.scalars(select(JournalEvent.id).where(journal_filter(scope))))
        for event in events:
            expected = _may_see(user, event)
            assert scope.sees(event.audience, event.audience_id, event.school_id) == expected, (
                name,
                event.type,
                event.audience_id,
            )
            assert (event.id in replayed) == expected, (name, event.type, "replay")
            _, rooms = event_rooms(event.audience, event.audience_id, event.school_id)
            assert bool(rooms_of(scope) & set(rooms)) == expected, (name, event.type, "rooms")


def test_nobody_outside_receives_a_childs_events(world: World, session: object) -> None:
    """The issue's three outsiders: a parent of another child, a teacher of another class, a user
    of another school (and the gmina, which sees aggregates only)."""
    events = [
        e
        for e in _every_event_type(world)
        if (e.audience, e.audience_id) in {("pupil", world.pupil.id), ("class", world.class_a.id)}
    ]
    assert {e.type for e in events} >= {"attendance.recorded", "grade.added", "lesson.topic"}
    for outsider in (
        "other_parent",
        "other_teacher",
        "other_secretary",
        "other_school_admin",
        "district_admin",
    ):
        scope = scope_of(getattr(world, outsider))
        assert not [e.type for e in events if scope.sees(e.audience, e.audience_id, e.school_id)]
    parent = scope_of(world.parent)
    assert all(parent.sees(e.audience, e.audience_id, e.school_id) for e in events)


def test_kiosk_events_go_to_the_device_room_of_the_kiosk_namespace(
    world: World, session: object
) -> None:
    event = next(e for e in _every_event_type(world) if e.type == "kiosk.revoked")
    assert event_rooms(event.audience, event.audience_id, event.school_id) == (
        "/kiosk",
        [f"kiosk:{world.kiosk.id}"],
    )


@pytest.mark.parametrize("name", PEOPLE)
def test_rooms_agree_with_the_read_predicates_for_every_pupil_and_class(
    world: World, session: object, name: str
) -> None:
    # A group taught separately: its teacher reads the group's pupils only, and the class.
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
    user = getattr(world, name)
    scope = scope_of(user)
    for pupil in db.session.scalars(select(Pupil)):
        assert scope.sees("pupil", pupil.id, pupil.school_id) == roles.can_read_pupil(
            user, pupil
        ), (name, pupil.full_name)
    for school_class in db.session.scalars(select(SchoolClass)):
        guardian = any(roles.is_guardian_of(user, p.id) for p in school_class.pupils)
        assert scope.sees("class", school_class.id, school_class.school_id) == (
            roles.can_read_class(user, school_class) or guardian
        ), (name, school_class.name)
    if name == "teacher":
        assert scope.sees("pupil", world.pupil_b.id, world.school.id)
        assert not scope.sees("pupil", world.sibling.id, world.school.id)


def test_register_staff_get_one_school_room_instead_of_every_pupil(
    world: World, session: object
) -> None:
    assert rooms_of(scope_of(world.secretary)) == {
        f"school:{world.school.id}",
        f"person:{world.secretary.id}",
    }
    assert rooms_of(scope_of(world.district_admin)) == {
        f"district:{world.district.id}",
        f"person:{world.district_admin.id}",
    }
    assert rooms_of(scope_of(world.parent)) == {
        f"person:{world.parent.id}",
        f"pupil:{world.pupil.id}",
        f"pupil:{world.sibling.id}",
        f"class:{world.class_a.id}",
        f"class:{world.class_b.id}",
    }


def test_a_persons_events_reach_that_person_only_never_a_school_room(
    world: World, session: object
) -> None:
    """Messages and read receipts (issue 18): the person's own room, not the school's office
    (a secretary reads the school's pupils, not its teachers' and parents' letters)."""
    events = [e for e in _every_event_type(world) if e.audience == "person"]
    assert {e.type for e in events} == {"message.received", "message.read"}
    for event in events:
        assert event_rooms(event.audience, event.audience_id, event.school_id) == (
            "/live",
            [f"person:{event.audience_id}"],
        )
        for name in PEOPLE:
            user = getattr(world, name)
            assert scope_of(user).sees(event.audience, event.audience_id, event.school_id) == (
                user.id == event.audience_id
            ), (name, event.type)
