"""Find anyone fast (issue 13, item 1): pupils and guardians of one school by name, PESEL or
class, insensitive to case and Polish diacritics ("wachock" finds "Wąchock").

Both sides are folded by `ediary.folding.fold`: the stored `search_key` of pupils and accounts
(kept by mapper events on every write) and the typed words. Each typed word must match the start
of a word of the key (`LIKE '% word%'`: "kow" finds "Kowalska", a PESEL's first digits find it),
or, for pupils, be their class's name ("5a"). Plain SQL on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select

from ediary.db import db
from ediary.folding import fold
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, School, SchoolClass

LIMIT = 20
MAX_WORDS = 5


@dataclass
class Found:
    query: str
    pupils: list[tuple[Pupil, SchoolClass]] = field(default_factory=list)
    guardians: list[User] = field(default_factory=list)
    children: dict[int, list[Pupil]] = field(default_factory=dict)  # guardian id → children

    @property
    def empty(self) -> bool:
        return not self.pupils and not self.guardians


def words_of(query: str) -> list[str]:
    return fold(query).split()[:MAX_WORDS]


def search(school: School, query: str) -> Found:
    found = Found(query=query[:100])
    words = words_of(query[:100])
    if not words:
        return found
    pupil_terms = [
        or_(
            Pupil.search_key.contains(f" {w}", autoescape=True),
            func.lower(SchoolClass.name) == w,
        )
        for w in words
    ]
    found.pupils = [
        (pupil, school_class)
        for pupil, school_class in db.session.execute(
            select(Pupil, SchoolClass)
            .join(SchoolClass, SchoolClass.id == Pupil.class_id)
            .where(Pupil.school_id == school.id, and_(*pupil_terms))
            .order_by(Pupil.active.desc(), Pupil.last_name, Pupil.first_name, Pupil.id)
            .limit(LIMIT)
        )
    ]
    in_school = select(Guardianship.user_id).where(Guardianship.school_id == school.id)
    found.guardians = list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(in_school),
                *(User.search_key.contains(f" {w}", autoescape=True) for w in words),
            )
            .order_by(User.last_name, User.first_name, User.id)
            .limit(LIMIT)
        )
    )
    if found.guardians:
        rows = db.session.execute(
            select(Guardianship.user_id, Pupil)
            .join(Pupil, Pupil.id == Guardianship.pupil_id)
            .where(
                Guardianship.user_id.in_([g.id for g in found.guardians]),
                Guardianship.school_id == school.id,
            )
            .order_by(Pupil.first_name)
        )
        for user_id, pupil in rows:
            found.children.setdefault(user_id, []).append(pupil)
    return found
