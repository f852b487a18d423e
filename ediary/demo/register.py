"""The demo's pupil register (issue 13): PESELs with valid checksums and birth dates that fit
each pupil's grade, birth places, addresses, admission dates; guardians' relation and address.

Deterministic: every value follows from the pupil's place in the seed's order, so two seeds
of the same scale hold the same register. Written through one operation, with its history.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.people.models import User
from ediary.schools.models import GuardianRelation, Guardianship, Pupil, School, SchoolClass
from ediary.schools.pesel import make_pesel

BIRTH_PLACES = ("Starachowice", "Starachowice", "Kielce", "Skarżysko-Kamienna", "Radom", "Iłża")
STREETS = ("Kościelna", "Szkolna", "Polna", "Leśna", "Długa", "Ogrodowa", "Spacerowa")
POSTCODES = {"Gmina Mirzec": "27-220 Mirzec", "Gmina Wąchock": "27-215 Wąchock"}


def _town(school: School) -> str:
    village = school.short_name.removeprefix("SP ")
    return f"{village}, {POSTCODES.get(school.district.name, '27-200 Starachowice')}"


@operation
def fill_register(actor: Actor, year_start: int) -> int:
    """Fills the register particulars of every pupil; returns how many."""
    rows = db.session.execute(
        select(Pupil, SchoolClass, School)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .join(School, School.id == Pupil.school_id)
        .order_by(Pupil.id)
    ).all()
    address_of: dict[int, str] = {}
    for index, (pupil, school_class, school) in enumerate(rows):
        chance = random.Random(f"demo-register-{index}")
        # Grade 1 in September of `year_start` is the year the child turns 7.
        born = dt.date(year_start - 6 - school_class.grade_level, 1, 1) + dt.timedelta(
            days=chance.randrange(365)
        )
        female = pupil.first_name.endswith("a")
        pupil.pesel = make_pesel(born, index % 5000, "F" if female else "M")
        pupil.birth_date = born
        pupil.birth_place = chance.choice(BIRTH_PLACES)
        house = chance.randrange(1, 120)
        pupil.address = f"ul. {chance.choice(STREETS)} {house}, {_town(school)}"
        pupil.admitted_on = dt.date(year_start - school_class.grade_level + 1, 9, 1)
        address_of[pupil.id] = pupil.address
    links = db.session.execute(
        select(Guardianship, User)
        .join(User, User.id == Guardianship.user_id)
        .order_by(Guardianship.id)
    ).all()
    for link, user in links:
        link.relation = (
            GuardianRelation.MOTHER if user.first_name.endswith("a") else GuardianRelation.FATHER
        )
        if user.address is None:
            user.address = address_of.get(link.pupil_id)
    return len(rows)


def fill_demo_register(today: dt.date) -> int:
    """The demo seed's one call: the school year that `today` belongs to starts in September."""
    year_start = today.year if today.month >= 8 else today.year - 1
    return fill_register(Actor.system(Channel.SYSTEM), year_start)
