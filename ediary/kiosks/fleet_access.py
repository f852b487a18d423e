"""Who sees which kiosks on the fleet pages, as loaders: the object, or a 404 as if it did not
exist. A school's administrator runs its kiosks; a district administrator reads (never changes)
the kiosks of the district's schools, without the teacher at the screen (no personal data)."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.kiosks.models import Kiosk
from ediary.people.models import User
from ediary.schools.models import District, School


def load_school_fleet(user: User, school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None or not roles.is_school_admin(user, school.id):
        raise NotFound()
    return school


def load_kiosk_for_managing(user: User, school: School, kiosk_id: int) -> Kiosk:
    """A kiosk of this school (the URL names both; a kiosk of another school is a 404)."""
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.school_id != school.id or not roles.is_school_admin(user, school.id):
        raise NotFound()
    return kiosk


def load_kiosk_for_reading(user: User, kiosk_id: int) -> Kiosk:
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise NotFound()
    if roles.is_school_admin(user, kiosk.school_id):
        return kiosk
    school = db.session.get(School, kiosk.school_id)
    if school is not None and roles.is_district_admin(user, school.district_id):
        return kiosk
    raise NotFound()


def load_district_fleet(user: User, district_id: int) -> District:
    district = db.session.get(District, district_id)
    if district is None or not roles.is_district_admin(user, district.id):
        raise NotFound()
    return district


def district_school_ids(district: District) -> list[int]:
    return list(db.session.scalars(select(School.id).where(School.district_id == district.id)))


def admin_school_ids(user: User) -> list[int]:
    """The schools whose kiosks this person runs (the start page's alerts)."""
    return sorted(
        m.school_id
        for m in user.memberships
        if m.school_id is not None and roles.is_school_admin(user, m.school_id)
    )


def admin_district_ids(user: User) -> list[int]:
    return sorted(
        m.district_id
        for m in user.memberships
        if m.district_id is not None and roles.is_district_admin(user, m.district_id)
    )
