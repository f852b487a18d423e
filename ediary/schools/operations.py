"""The school structure: gminas, schools with their statute defaults, years, classes, pupils.

Who belongs where decides who may see what: the operations that change it (a class's form tutor,
a pupil's class or groups, a guardian's links) declare it (`ediary.access.revocation`), so the
open sockets concerned are rescoped after the commit.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.access.revocation import (
    access_changed,
    class_members_changed,
    group_members_changed,
    pupil_moved,
)
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.diary.models import AttendanceType, GradeCategory, Presence
from ediary.errors import Refusal
from ediary.people.models import User
from ediary.schools.models import (
    ClassGroup,
    District,
    GroupMembership,
    Guardianship,
    Pupil,
    School,
    SchoolClass,
    SchoolYear,
    Term,
)

# The seven states the market leader uses, common ones first (the kiosk's tap cycle follows it).
# "zw" (released by the school) and "ns" (school reasons) are not absences in the percentage.
DEFAULT_ATTENDANCE_TYPES = (
    ("ob", "obecny", Presence.PRESENT, False),
    ("nb", "nieobecny", Presence.ABSENT, False),
    ("sp", "spóźniony", Presence.PRESENT, False),
    ("u", "nieobecny usprawiedliwiony", Presence.ABSENT, True),
    ("su", "spóźnienie usprawiedliwione", Presence.PRESENT, True),
    ("ns", "nieobecny z przyczyn szkolnych", Presence.PRESENT, True),
    ("zw", "zwolniony", Presence.PRESENT, True),
)
DEFAULT_GRADE_CATEGORIES = (
    ("sprawdzian", 3, True),
    ("kartkówka", 2, True),
    ("odpowiedź", 1, True),
    ("praca domowa", 1, True),
    ("aktywność", 1, True),
    ("inne", 0, False),
)


@operation
def create_district(actor: Actor, name: str) -> District:
    district = District(name=name)
    db.session.add(district)
    return district


@operation
def create_school(actor: Actor, district: District, name: str, short_name: str) -> School:
    """A school with the statute defaults a school usually starts from (it may change them)."""
    school = School(district=district, name=name, short_name=short_name)
    db.session.add(school)
    db.session.flush()
    for position, (code, label, counts_as, excused) in enumerate(DEFAULT_ATTENDANCE_TYPES):
        db.session.add(
            AttendanceType(
                school_id=school.id,
                code=code,
                name=label,
                counts_as=counts_as,
                excused=excused,
                position=position,
            )
        )
    for label, weight, counts in DEFAULT_GRADE_CATEGORIES:
        db.session.add(
            GradeCategory(school_id=school.id, name=label, weight=weight, counts_to_average=counts)
        )
    return school


@operation
def create_school_year(
    actor: Actor, school: School, starts_on: dt.date, term_two_on: dt.date, ends_on: dt.date
) -> SchoolYear:
    if not starts_on < term_two_on <= ends_on:
        raise Refusal("year_dates", _l("Daty roku szkolnego i okresów są w złej kolejności."))
    year = SchoolYear(
        school_id=school.id,
        name=f"{starts_on.year}/{starts_on.year + 1}",
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.session.add(year)
    db.session.flush()
    db.session.add_all(
        [
            Term(
                school_id=school.id,
                year_id=year.id,
                number=1,
                starts_on=starts_on,
                ends_on=term_two_on - dt.timedelta(days=1),
            ),
            Term(
                school_id=school.id,
                year_id=year.id,
                number=2,
                starts_on=term_two_on,
                ends_on=ends_on,
            ),
        ]
    )
    return year


@operation
def create_class(
    actor: Actor,
    year: SchoolYear,
    name: str,
    grade_level: int,
    form_tutor: User | None = None,
) -> SchoolClass:
    school_class = SchoolClass(
        school_id=year.school_id,
        year_id=year.id,
        name=name,
        grade_level=grade_level,
        form_tutor_id=form_tutor.id if form_tutor is not None else None,
    )
    db.session.add(school_class)
    access_changed(school_class.form_tutor_id)
    return school_class


@operation
def set_form_tutor(actor: Actor, school_class: SchoolClass, tutor: User | None) -> SchoolClass:
    """A new form tutor (wychowawca), or none: the old one stops seeing the class, the new
    one starts."""
    previous = school_class.form_tutor_id
    school_class.form_tutor_id = tutor.id if tutor is not None else None
    if school_class.form_tutor_id != previous:
        access_changed(previous, school_class.form_tutor_id)
    return school_class


@operation
def enrol_pupil(actor: Actor, school_class: SchoolClass, first_name: str, last_name: str) -> Pupil:
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name or not last_name:
        raise Refusal("pupil_name", _l("Podaj imię i nazwisko ucznia."))
    pupil = Pupil(
        school_id=school_class.school_id,
        class_id=school_class.id,
        first_name=first_name,
        last_name=last_name,
    )
    db.session.add(pupil)
    class_members_changed(school_class.id)
    return pupil


@operation
def move_pupil(actor: Actor, pupil: Pupil, school_class: SchoolClass) -> Pupil:
    """Moves a pupil to another class of their school; they leave the old class's groups."""
    if school_class.school_id != pupil.school_id:
        raise Refusal(
            "class_other_school", _l("Ucznia można przenieść tylko do klasy tej samej szkoły.")
        )
    previous = pupil.class_id
    if previous == school_class.id:
        return pupil
    old_groups = db.session.scalars(
        select(GroupMembership)
        .join(ClassGroup, ClassGroup.id == GroupMembership.group_id)
        .where(GroupMembership.pupil_id == pupil.id, ClassGroup.class_id == previous)
    ).all()
    for membership in old_groups:
        db.session.delete(membership)
    pupil.class_id = school_class.id
    pupil_moved(pupil, previous)
    if old_groups:
        group_members_changed(*(m.group_id for m in old_groups))
    return pupil


@operation
def add_to_group(actor: Actor, group: ClassGroup, pupil: Pupil) -> GroupMembership:
    """A pupil of the group's class joins the group (a language group, say): its teachers now
    teach them."""
    if pupil.class_id != group.class_id:
        raise Refusal("pupil_not_in_class", _l("Uczeń nie należy do klasy tej grupy."))
    existing = _group_membership(group, pupil)
    if existing is not None:
        return existing
    membership = GroupMembership(group_id=group.id, pupil_id=pupil.id)
    db.session.add(membership)
    group_members_changed(group.id)
    return membership


@operation
def remove_from_group(actor: Actor, group: ClassGroup, pupil: Pupil) -> bool:
    membership = _group_membership(group, pupil)
    if membership is None:
        return False
    db.session.delete(membership)
    group_members_changed(group.id)
    return True


def _group_membership(group: ClassGroup, pupil: Pupil) -> GroupMembership | None:
    return db.session.scalar(
        select(GroupMembership).where(
            GroupMembership.group_id == group.id, GroupMembership.pupil_id == pupil.id
        )
    )


@operation
def link_guardian(actor: Actor, user: User, pupil: Pupil) -> Guardianship:
    existing = _guardianship(user, pupil)
    if existing is not None:
        return existing
    link = Guardianship(school_id=pupil.school_id, user_id=user.id, pupil_id=pupil.id)
    db.session.add(link)
    access_changed(user.id)
    return link


@operation
def unlink_guardian(actor: Actor, user: User, pupil: Pupil) -> bool:
    """Ends a parent's access to a child at once (the history keeps the link that was)."""
    link = _guardianship(user, pupil)
    if link is None:
        return False
    db.session.delete(link)
    access_changed(user.id)
    return True


def _guardianship(user: User, pupil: Pupil) -> Guardianship | None:
    return db.session.scalar(
        select(Guardianship).where(
            Guardianship.user_id == user.id, Guardianship.pupil_id == pupil.id
        )
    )
