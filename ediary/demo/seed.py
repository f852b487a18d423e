"""Writes the demo district into the database: the structure through operations, the diary in bulk.

The structure (gminas, schools, rooms and kiosks, people, classes, the timetable) is a few
thousand rows; it goes through operations, so the audit writes its history rows as for any write.
The diary (lessons with topics, attendance, grades, remarks) is a few hundred thousand rows, and
`lessons.py` writes it in bulk, with a history row for each.

The caller commits once, so a failed seed leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, select

from ediary.access.revocation import access_changed, class_members_changed
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import Base, db, utcnow
from ediary.demo import (
    calendar,
    classification,
    council,
    gradebook,
    homework,
    kioskfleet,
    plan,
    substitutions,
    tutor,
)
from ediary.demo.accounts import DEMO_PASSWORD
from ediary.demo.contacts import seed_contacts
from ediary.demo.content import SUBJECTS, WEEKLY_HOURS
from ediary.demo.history import SchoolCodes
from ediary.demo.lessons import BELLS, LESSON, WARSAW, Ids, Progress, write_diary
from ediary.demo.messages import seed_messages
from ediary.demo.register import fill_demo_register
from ediary.demo.twofactor import enrol_demo
from ediary.diary.models import AttendanceType, GradeCategory
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import create_kiosk
from ediary.people.models import Membership, Role, User
from ediary.people.passwords import hash_password
from ediary.schools.models import (
    District,
    Guardianship,
    ImprovementPolicy,
    Pupil,
    Room,
    School,
    SchoolClass,
    SchoolYear,
    Subject,
    Term,
)
from ediary.schools.operations import create_district, create_school, create_school_year
from ediary.timetable.models import BellSlot, Lesson, TeachingAssignment, TimetableEntry
from ediary.timetable.operations import ensure_lessons

# Each school's statute sets its own grading rules: the demo shows that they differ.
STATUTES = {
    "SP Wąchock": (Decimal("0.5"), Decimal("0.25"), ImprovementPolicy.BETTER),
    "SP Małyszyn": (Decimal("0.33"), Decimal("0.33"), ImprovementPolicy.LATEST),
}
COUNT_KEYS = (
    "districts",
    "schools",
    "classes",
    "rooms",
    "kiosks",
    "teachers",
    "school_admins",
    "secretaries",
    "district_admins",
    "pupils",
    "parents",
)


class DemoExists(Exception):
    """The database already has schools; the demo never mixes with real or earlier data."""


@dataclass
class SeedReport:
    counts: dict[str, int]
    diary: dict[str, int]
    steps: int


def steps(weeks: int, now: dt.datetime | None = None) -> int:
    """How many progress steps a seed takes: the structure, then one per school day."""
    today = (now or utcnow()).astimezone(WARSAW).date()
    return 2 + len(calendar.demo_window(today, weeks))


def seed_demo(
    *,
    weeks: int = 3,
    scale: float = 1.0,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    """Fills an empty database with the demo district. Needs an app context; the caller commits."""
    if db.session.scalar(select(func.count(School.id))):
        raise DemoExists("the database already has schools")
    now = now or utcnow()
    report = progress or (lambda _stage, _n: None)
    today = now.astimezone(WARSAW).date()
    days = calendar.demo_window(today, weeks)
    district = plan.build(scale)
    report("planning the district", 1)
    ids = _structure(district, days, today)
    fill_demo_register(today)  # issue 13: PESELs, birth places, addresses, guardians' relation
    enrol_demo(now)  # the staff's two-factor login, with the demo's public key
    report("schools, people, timetable", 1)
    diary = write_diary(district, ids, days, now, today, report)
    kioskfleet.seed_fleet(now)
    seed_contacts()
    diary["gradebook_columns"] = gradebook.add_columns()  # nauczyciel1's grid has columns
    diary["tutor_absences"] = tutor.mark_absent_pupil()  # "Moja klasa" shows a risk
    substitutions.seed_absence(today)  # dyrektor1: an absent teacher to plan for (issue 14)
    diary["homework"] = homework.announce_some(today)  # a parent's week shows tests (issue 18)
    diary["classification_councils"] = classification.seed_councils(today)  # issue 15 item 5
    diary["council"] = council.seed_council(today)  # wychowawca1's behaviour grades, finals
    diary["messages"] = seed_messages(today)  # rodzic1 ↔ wychowawca1; dyrektor1's announcement
    return SeedReport(counts=demo_counts(), diary=diary, steps=2 + len(days))


def top_up_lessons(now: dt.datetime | None = None) -> int:
    """Lessons for the rest of this week and the next, where they are missing; returns how many.

    A demo seeded some days ago still has a lesson "now" for the kiosk. They come from the weekly
    timetable through the usual operation (with its history); no history is invented for the days
    in between. Needs an app context; the caller commits.
    """
    today = (now or utcnow()).astimezone(WARSAW).date()
    days = [day for day in calendar.demo_window(today, 0) if day >= today]
    before = db.session.scalar(select(func.count(Lesson.id))) or 0
    actor = Actor.system(Channel.SYSTEM)
    for school in db.session.scalars(select(School).order_by(School.id)).all():
        for day in days:
            ensure_lessons(actor, school, day)
    return (db.session.scalar(select(func.count(Lesson.id))) or 0) - before


@operation
def _add(actor: Actor, rows: Sequence[Base]) -> None:
    db.session.add_all(rows)


@operation
def _new_to_everyone(actor: Actor, user_ids: Sequence[int], class_ids: Sequence[int]) -> None:
    """The district's accounts, roles, classes and links are all new: declared, as any write of
    them is (ediary/access/revocation.py). Nobody is connected to a database being seeded, so
    the relays have nothing to do with it."""
    access_changed(*user_ids)
    class_members_changed(*class_ids)


@operation
def _apply_statute(actor: Actor, school: School) -> None:
    statute = STATUTES.get(school.short_name)
    if statute is not None:
        school.plus_value, school.minus_value, school.improvement_policy = statute


def _structure(district: plan.District, days: list[dt.date], today: dt.date) -> Ids:
    actor = Actor.system(Channel.IMPORT)
    ids = Ids()
    start, term_two, end = calendar.school_year(today)
    # A demo seeded in the holidays still needs its weeks of lessons inside a school year.
    start, end = min(start, days[0]), max(end, days[-1])
    gminas = [create_district(actor, name) for name in plan.DISTRICTS]
    years: list[SchoolYear] = []
    for spec in district.schools:
        school = create_school(actor, gminas[spec.district], spec.name, spec.short_name)
        _apply_statute(actor, school)
        ids.schools.append(school)
        years.append(create_school_year(actor, school, start, term_two, end))

    rooms = [Room(school_id=ids.schools[r.school].id, name=r.name) for r in district.rooms]
    _add(actor, rooms)
    ids.rooms = [room.id for room in rooms]
    for room in rooms:
        create_kiosk(actor, room)

    subjects: list[tuple[tuple[int, str], Subject]] = []
    bells: list[BellSlot] = []
    for index, school in enumerate(ids.schools):
        taught = {s for c in district.classes if c.school == index for s in WEEKLY_HOURS[c.grade]}
        for info in SUBJECTS:
            if info.short in taught:
                subject = Subject(school_id=school.id, name=info.name, short_name=info.short)
                subjects.append(((index, info.short), subject))
        for number, starts in enumerate(BELLS, start=1):
            ends = (dt.datetime.combine(today, starts) + LESSON).time()
            bells.append(
                BellSlot(school_id=school.id, number=number, starts_at=starts, ends_at=ends)
            )
    _add(actor, [*(s for _, s in subjects), *bells])
    ids.subjects = {key: subject.id for key, subject in subjects}

    password_hash = hash_password(DEMO_PASSWORD)  # one argon2 hash (~0.2 s) for every account

    def user(person: plan.Person) -> User:
        return User(
            login=person.login,
            first_name=person.first_name,
            last_name=person.last_name,
            password_hash=password_hash,
            is_demo=True,
        )

    teachers = [user(t) for t in district.teachers]
    directors = [user(o) for o in district.directors]
    secretaries = [user(o) for o in district.secretaries]
    district_admins = [user(p) for p in district.district_admins]
    parents = [user(p) for p in district.parents]
    _add(actor, teachers + directors + secretaries + district_admins + parents)
    ids.teachers = [t.id for t in teachers]
    memberships = [
        Membership(user_id=u.id, role=Role.TEACHER, school_id=ids.schools[t.school].id)
        for u, t in zip(teachers, district.teachers, strict=True)
    ]
    for users, offices, role in (
        (directors, district.directors, Role.SCHOOL_ADMIN),
        (secretaries, district.secretaries, Role.SECRETARY),
    ):
        for u, office in zip(users, offices, strict=True):
            memberships.extend(
                Membership(user_id=u.id, role=role, school_id=ids.schools[s].id)
                for s in office.schools
            )
    memberships.extend(
        Membership(user_id=u.id, role=Role.DISTRICT_ADMIN, district_id=gminas[d].id)
        for d, u in enumerate(district_admins)
    )
    classes = [
        SchoolClass(
            school_id=ids.schools[c.school].id,
            year_id=years[c.school].id,
            name=c.name,
            grade_level=c.grade,
            form_tutor_id=ids.teachers[c.tutor],
        )
        for c in district.classes
    ]
    _add(actor, [*memberships, *classes])
    ids.classes = [c.id for c in classes]

    pupils = [
        Pupil(
            school_id=ids.schools[p.school].id,
            class_id=ids.classes[p.klass],
            first_name=p.first_name,
            last_name=p.last_name,
        )
        for p in district.pupils
    ]
    assignments = [
        TeachingAssignment(
            school_id=ids.schools[district.classes[a.klass].school].id,
            teacher_id=ids.teachers[a.teacher],
            class_id=ids.classes[a.klass],
            subject_id=ids.subjects[(district.classes[a.klass].school, a.subject)],
            weekly_hours=a.hours,
        )
        for a in district.assignments
    ]
    _add(actor, [*pupils, *assignments])
    ids.pupils = [p.id for p in pupils]
    ids.assignments = [a.id for a in assignments]

    links = [
        Guardianship(
            school_id=pupils[child].school_id,
            user_id=parents[guardian].id,
            pupil_id=pupils[child].id,
        )
        for family in district.families
        for child in family.children
        for guardian in family.guardians
    ]
    entries = [
        TimetableEntry(
            school_id=assignments[e.assignment].school_id,
            assignment_id=assignments[e.assignment].id,
            weekday=e.weekday,
            slot_number=e.slot,
            room_id=ids.rooms[e.room],
            valid_from=start,
            valid_to=end,
        )
        for e in district.entries
    ]
    _add(actor, [*links, *entries])
    ids.entries = [e.id for e in entries]
    people = [*teachers, *directors, *secretaries, *district_admins, *parents]
    _new_to_everyone(actor, [u.id for u in people], ids.classes)

    school_ids = [s.id for s in ids.schools]
    for term in db.session.scalars(select(Term).where(Term.school_id.in_(school_ids))):
        ids.terms.setdefault(term.school_id, []).append((term.starts_on, term.ends_on, term.id))
    for school_id in school_ids:
        types = db.session.execute(
            select(AttendanceType.code, AttendanceType.id).where(
                AttendanceType.school_id == school_id
            )
        )
        categories = db.session.execute(
            select(GradeCategory.name, GradeCategory.id).where(GradeCategory.school_id == school_id)
        )
        ids.codes[school_id] = SchoolCodes(dict(types.all()), dict(categories.all()))
    return ids


def demo_counts() -> dict[str, int]:
    """What the district holds, counted in the database (the `seed-demo --json` object)."""

    def count(column: Any, *where: Any) -> int:
        return int(db.session.scalar(select(func.count(distinct(column))).where(*where)) or 0)

    def staff(role: Role) -> int:
        return count(Membership.user_id, Membership.role == role)

    counts = {
        "districts": count(District.id),
        "schools": count(School.id),
        "classes": count(SchoolClass.id),
        "rooms": count(Room.id),
        "kiosks": count(Kiosk.id),
        "teachers": staff(Role.TEACHER),
        "school_admins": staff(Role.SCHOOL_ADMIN),
        "secretaries": staff(Role.SECRETARY),
        "district_admins": staff(Role.DISTRICT_ADMIN),
        "pupils": count(Pupil.id),
        "parents": count(Guardianship.user_id),
    }
    assert tuple(counts) == COUNT_KEYS
    return counts
