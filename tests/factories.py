"""Plain factory functions: a small, complete school world built through the real operations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.diary.models import Grade, GradeCategory
from ediary.diary.operations import record_grade
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import create_kiosk
from ediary.people.models import Role, User
from ediary.people.operations import create_user, grant_role
from ediary.schools.models import District, Pupil, Room, School, SchoolClass, SchoolYear, Subject
from ediary.schools.operations import (
    create_class,
    create_district,
    create_school,
    create_school_year,
    enrol_pupil,
    link_guardian,
)
from ediary.timetable.models import BellSlot, Lesson, TeachingAssignment, TimetableEntry
from ediary.timetable.operations import assign_teacher, local_datetime
from ediary.timetable.queries import term_on

SYSTEM = Actor.system(Channel.CLI)
PASSWORD = "correct horse battery"


def make_user(
    login: str,
    role: Role | None = None,
    *,
    school: School | None = None,
    district: District | None = None,
    password: str | None = PASSWORD,
) -> User:
    first, _, last = login.partition("_")
    user = create_user(
        SYSTEM,
        login=login,
        first_name=first.title(),
        last_name=(last or "Test").title(),
        password=password,
    )
    if role is not None:
        grant_role(
            SYSTEM,
            user,
            role,
            school_id=school.id if school else None,
            district_id=district.id if district else None,
        )
    return user


def school_year_for(today: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    start_year = today.year if today.month >= 9 else today.year - 1
    return dt.date(start_year, 9, 1), dt.date(start_year + 1, 2, 1), dt.date(start_year + 1, 6, 26)


@operation
def _add(actor: Actor, *rows: object) -> None:
    db.session.add_all(rows)


def make_room(school: School, name: str) -> Room:
    room = Room(school_id=school.id, name=name)
    _add(SYSTEM, room)
    return room


def make_subject(school: School, name: str, short: str) -> Subject:
    subject = Subject(school_id=school.id, name=name, short_name=short)
    _add(SYSTEM, subject)
    return subject


def make_lesson(
    school: School,
    school_class: SchoolClass,
    subject: Subject,
    teacher: User,
    room: Room,
    date: dt.date,
    slot_number: int = 1,
) -> Lesson:
    """A lesson from a one-slot weekly timetable entry (its assignment made if missing)."""
    slot = (
        db.session.query(BellSlot).filter_by(school_id=school.id, number=slot_number).one_or_none()
    )
    if slot is None:
        hour = 7 + slot_number
        slot = BellSlot(
            school_id=school.id,
            number=slot_number,
            starts_at=dt.time(hour, 0),
            ends_at=dt.time(hour, 45),
        )
        _add(SYSTEM, slot)
    assignment = (
        db.session.query(TeachingAssignment)
        .filter_by(
            teacher_id=teacher.id, class_id=school_class.id, subject_id=subject.id, group_id=None
        )
        .one_or_none()
    )
    if assignment is None:
        assignment = assign_teacher(SYSTEM, teacher, school_class, subject)
    entry = (
        db.session.query(TimetableEntry)
        .filter_by(assignment_id=assignment.id, weekday=date.weekday(), slot_number=slot_number)
        .one_or_none()
    )
    if entry is None:
        start, _, end = school_year_for(date)
        entry = TimetableEntry(
            school_id=school.id,
            assignment_id=assignment.id,
            weekday=date.weekday(),
            slot_number=slot_number,
            room_id=room.id,
            valid_from=start,
            valid_to=end,
        )
        _add(SYSTEM, entry)
    lesson = Lesson(
        school_id=school.id,
        timetable_entry_id=entry.id,
        date=date,
        slot_number=slot_number,
        starts_at=local_datetime(school, date, slot.starts_at),
        ends_at=local_datetime(school, date, slot.ends_at),
        class_id=school_class.id,
        subject_id=subject.id,
        teacher_id=teacher.id,
        room_id=room.id,
    )
    _add(SYSTEM, lesson)
    return lesson


@dataclass
class World:
    """Two gminas; school A (classes 5a, 5b) and school B (class 1a); their people."""

    today: dt.date
    district: District
    other_district: District
    school: School
    other_school: School
    year: SchoolYear
    class_a: SchoolClass
    class_b: SchoolClass
    class_other_school: SchoolClass
    pupil: Pupil
    sibling: Pupil
    classmate: Pupil
    pupil_b: Pupil
    pupil_other_school: Pupil
    teacher: User
    tutor: User
    other_teacher: User
    parent: User
    other_parent: User
    secretary: User
    school_admin: User
    other_secretary: User
    other_school_admin: User
    district_admin: User
    other_district_admin: User
    math: Subject
    room: Room
    kiosk: Kiosk
    lesson: Lesson
    test_category: GradeCategory
    quiz_category: GradeCategory


def make_world(today: dt.date | None = None) -> World:
    today = today or dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()
    district = create_district(SYSTEM, "Gmina Testowa")
    other_district = create_district(SYSTEM, "Gmina Sąsiednia")
    school = create_school(SYSTEM, district, "Szkoła Podstawowa nr 1", "SP1")
    other_school = create_school(SYSTEM, other_district, "Szkoła Podstawowa w Sąsiedztwie", "SPS")
    start, term_two, end = school_year_for(today)
    year = create_school_year(SYSTEM, school, start, term_two, end)
    other_year = create_school_year(SYSTEM, other_school, start, term_two, end)

    teacher = make_user("anna_nowak", Role.TEACHER, school=school)
    tutor = make_user("jan_kowalski", Role.TEACHER, school=school)
    other_teacher = make_user("ewa_zielinska", Role.TEACHER, school=school)
    class_a = create_class(SYSTEM, year, "5a", 5, tutor)
    class_b = create_class(SYSTEM, year, "5b", 5, other_teacher)
    class_other = create_class(SYSTEM, other_year, "1a", 1)
    db.session.flush()

    pupil = enrol_pupil(SYSTEM, class_a, "Zosia", "Wiśniewska")
    sibling = enrol_pupil(SYSTEM, class_b, "Staś", "Wiśniewski")
    classmate = enrol_pupil(SYSTEM, class_a, "Adam", "Lewandowski")
    pupil_b = enrol_pupil(SYSTEM, class_b, "Ola", "Wójcik")
    pupil_other = enrol_pupil(SYSTEM, class_other, "Kuba", "Kamiński")
    parent = make_user("maria_wisniewska")
    other_parent = make_user("piotr_wojcik")
    db.session.flush()
    link_guardian(SYSTEM, parent, pupil)
    link_guardian(SYSTEM, parent, sibling)
    link_guardian(SYSTEM, other_parent, pupil_b)

    math = make_subject(school, "matematyka", "mat")
    room = make_room(school, "12")
    kiosk = create_kiosk(SYSTEM, room)
    lesson = make_lesson(school, class_a, math, teacher, room, today)
    categories = {c.name: c for c in db.session.query(GradeCategory).filter_by(school_id=school.id)}

    return World(
        today=today,
        district=district,
        other_district=other_district,
        school=school,
        other_school=other_school,
        year=year,
        class_a=class_a,
        class_b=class_b,
        class_other_school=class_other,
        pupil=pupil,
        sibling=sibling,
        classmate=classmate,
        pupil_b=pupil_b,
        pupil_other_school=pupil_other,
        teacher=teacher,
        tutor=tutor,
        other_teacher=other_teacher,
        parent=parent,
        other_parent=other_parent,
        secretary=make_user("beata_sekretarz", Role.SECRETARY, school=school),
        school_admin=make_user("dyrektor_szkoly", Role.SCHOOL_ADMIN, school=school),
        other_secretary=make_user("obca_sekretarz", Role.SECRETARY, school=other_school),
        other_school_admin=make_user("obcy_dyrektor", Role.SCHOOL_ADMIN, school=other_school),
        district_admin=make_user("gmina_admin", Role.DISTRICT_ADMIN, district=district),
        other_district_admin=make_user("obca_gmina", Role.DISTRICT_ADMIN, district=other_district),
        math=math,
        room=room,
        kiosk=kiosk,
        lesson=lesson,
        test_category=categories["sprawdzian"],
        quiz_category=categories["kartkówka"],
    )


@operation
def _retime(actor: Actor, lesson: Lesson, starts: dt.datetime) -> None:
    lesson.starts_at, lesson.ends_at = starts, starts + dt.timedelta(minutes=45)


def begun(lesson: Lesson) -> Lesson:
    """A lesson of today, moved to have begun by now: at its bell if that has rung, else ten
    minutes ago (never before midnight). For worlds served by a server process, on the suite's
    shared clock (tests/clock.py), which takes no entries for a lesson that has not begun
    (issue 10, item 3)."""
    zone = ZoneInfo("Europe/Warsaw")
    midnight = dt.datetime.combine(lesson.date, dt.time(), tzinfo=zone)
    earlier = dt.datetime.now(zone) - dt.timedelta(minutes=10)
    starts = max(midnight, min(lesson.starts_at.astimezone(zone), earlier))
    _retime(SYSTEM, lesson, starts.astimezone(dt.UTC))
    return lesson


def unsaved_grade(world: World, **fields: object) -> Grade:
    """An ongoing grade of the world's pupil in mathematics this term by its teacher, not yet
    written: for the tests that write one by hand (`audit.recording.insert_audited`)."""
    term = term_on(world.school.id, world.today)
    assert term is not None
    given: dict[str, object] = {
        "school_id": world.school.id,
        "pupil_id": world.pupil.id,
        "subject": world.math,
        "term_id": term.id,
        "teacher": world.teacher,
        "given_on": world.today,
    }
    return Grade(**(given | fields))


def make_graded_world() -> tuple[World, Lesson]:
    """The world, with two math grades for `pupil` (4+ in a test, 3 in a quiz) and an earlier
    math lesson today (slot 2), returned for the caller's own roll."""
    world = make_world()
    teacher = Actor(world.teacher, Channel.WEB)
    for value, category in (("4+", world.test_category), ("3", world.quiz_category)):
        record_grade(
            teacher,
            pupil=world.pupil,
            subject=world.math,
            value=value,
            category=category,
            given_on=world.today,
        )
    earlier = make_lesson(
        world.school, world.class_a, world.math, world.teacher, world.room, world.today, 2
    )
    return world, earlier


@operation
def _stretch_year(actor: Actor, world: World, day: dt.date) -> None:
    world.year.ends_on = max(world.year.ends_on, day)
    last = max(world.year.terms, key=lambda t: t.number)
    last.ends_on = max(last.ends_on, day)
    db.session.flush()


def cover_days(world: World, *days: dt.date) -> None:
    """Stretches the world's school year (and its last term) over `days`: tests whose server
    process reads the clock take the coming weekdays, which in summer fall after the
    year's end (26 June) and before the next one begins."""
    for day in days:
        _stretch_year(SYSTEM, world, day)
