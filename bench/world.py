"""The benchmark's school district, at the size DOMAIN.md designs for, written in bulk.

94 classrooms with an enrolled kiosk each, one class of 25 pupils and one teacher per room, a
lesson in every room today, about 3,000 parent accounts (every pupil has a guardian, some two).
Rows go through one audited operation per batch (history rows included), not one call per row:
the point is the server under load, not the seeding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from ediary import transactions
from ediary.access.revocation import access_changed, class_members_changed
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import Base, db, make_engine, utcnow
from ediary.kiosks.auth import new_secret, secret_hash
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import issue_enrollment_code
from ediary.people.models import Membership, Role, User
from ediary.people.passwords import hash_password
from ediary.schools.models import Guardianship, Pupil, Room, SchoolClass, Subject
from ediary.schools.operations import create_district, create_school, create_school_year
from ediary.timetable.models import BellSlot, Lesson, TeachingAssignment, TimetableEntry

SYSTEM = Actor.system(Channel.IMPORT)
PASSWORD = "bench password 1234"  # noqa: S105 - accounts of a throwaway benchmark database
SCHOOLS = 4


@dataclass
class BenchWorld:
    url: str
    kiosks: list[dict[str, Any]] = field(
        default_factory=list
    )  # id, secret, code, teacher, lesson, pupils
    parents: list[tuple[int, int]] = field(default_factory=list)  # (user id, session version)
    guardians: dict[int, list[int]] = field(default_factory=dict)  # pupil id -> parent ids
    pupil_rooms: dict[int, list[str]] = field(default_factory=dict)  # parent id -> pupil rooms


@operation
def _bulk(actor: Actor, rows: list[Any]) -> None:
    db.session.add_all(rows)


@operation
def _new_to_everyone(actor: Actor, user_ids: list[int], class_ids: list[int]) -> None:
    """Roles, classes and links are new: declared as any write of them (access/revocation.py)."""
    access_changed(*user_ids)
    class_members_changed(*class_ids)


def writer_app() -> Flask:
    app = Flask("ediary_bench", root_path=str(Path(__file__).resolve().parent))
    app.config.update(
        ARGON2_TIME_COST=1,
        ARGON2_MEMORY_KIB=8,
        ARGON2_PARALLELISM=1,
        REDIS_URL=None,
        DEMO_MODE=False,
    )
    return app


def build(url: str, *, kiosks: int = 94, class_size: int = 25, parents: int = 3000) -> BenchWorld:
    import ediary.models  # noqa: F401 - every table, as create_app knows them

    transactions.install()  # no create_app here: the history and the journal's order need them
    engine = make_engine(url)
    db.bind(engine)
    Base.metadata.create_all(engine)
    world = BenchWorld(url)
    with writer_app().app_context():
        today = dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()
        start_year = today.year if today.month >= 9 else today.year - 1
        district = create_district(SYSTEM, "Gmina Testowa (benchmark)")
        schools = [
            create_school(SYSTEM, district, f"Szkoła {n + 1}", f"S{n + 1}") for n in range(SCHOOLS)
        ]
        for school in schools:
            create_school_year(
                SYSTEM,
                school,
                dt.date(start_year, 9, 1),
                dt.date(start_year + 1, 2, 1),
                dt.date(start_year + 1, 6, 26),
            )
        db.session.flush()
        years = {s.id: y for s, y in zip(schools, _years(schools), strict=True)}
        password = hash_password(PASSWORD)

        teachers = [
            User(
                login=f"teacher{n:03d}",
                first_name="Nauczyciel",
                last_name=f"{n:03d}",
                password_hash=password,
            )
            for n in range(kiosks)
        ]
        school_of = [schools[n % SCHOOLS] for n in range(kiosks)]
        rooms = [Room(school_id=school_of[n].id, name=f"{n + 1}") for n in range(kiosks)]
        subjects = {
            s.id: Subject(school_id=s.id, name="matematyka", short_name="mat") for s in schools
        }
        slots = [
            BellSlot(school_id=s.id, number=1, starts_at=dt.time(8, 0), ends_at=dt.time(8, 45))
            for s in schools
        ]
        _bulk(SYSTEM, [*teachers, *rooms, *subjects.values(), *slots])
        _bulk(
            SYSTEM,
            [
                Membership(user_id=t.id, role=Role.TEACHER, school_id=school_of[n].id)
                for n, t in enumerate(teachers)
            ],
        )
        classes = [
            SchoolClass(
                school_id=school_of[n].id,
                year_id=years[school_of[n].id],
                name=f"{4 + n % 5}{chr(97 + n // 5 % 26)}{n}",
                grade_level=4 + n % 5,
                form_tutor_id=teachers[n].id,
            )
            for n in range(kiosks)
        ]
        _bulk(SYSTEM, classes)
        pupils = [
            Pupil(
                school_id=c.school_id,
                class_id=c.id,
                first_name=f"Uczeń{k:02d}",
                last_name=f"Klasa{c.id}",
            )
            for c in classes
            for k in range(class_size)
        ]
        accounts = [
            User(
                login=f"parent{n:04d}",
                first_name="Rodzic",
                last_name=f"{n:04d}",
                password_hash=password,
            )
            for n in range(parents)
        ]
        _bulk(SYSTEM, [*pupils, *accounts])
        links = [
            Guardianship(
                school_id=pupils[n % len(pupils)].school_id,
                user_id=account.id,
                pupil_id=pupils[n % len(pupils)].id,
            )
            for n, account in enumerate(accounts)
        ]
        assignments = [
            TeachingAssignment(
                school_id=c.school_id,
                teacher_id=teachers[n].id,
                class_id=c.id,
                subject_id=subjects[c.school_id].id,
            )
            for n, c in enumerate(classes)
        ]
        secrets = [new_secret() for _ in range(kiosks)]
        devices = [
            Kiosk(
                school_id=r.school_id,
                room=r,
                name=f"Kiosk {r.name}",
                secret_hash=secret_hash(secrets[n]),
                enrolled_at=utcnow(),
            )
            for n, r in enumerate(rooms)
        ]
        _bulk(SYSTEM, [*links, *assignments, *devices])
        _new_to_everyone(SYSTEM, [u.id for u in (*teachers, *accounts)], [c.id for c in classes])
        entries = [
            TimetableEntry(
                school_id=c.school_id,
                assignment_id=assignments[n].id,
                weekday=today.weekday(),
                slot_number=1,
                room_id=rooms[n].id,
                valid_from=dt.date(start_year, 9, 1),
                valid_to=dt.date(start_year + 1, 6, 26),
            )
            for n, c in enumerate(classes)
        ]
        _bulk(SYSTEM, entries)
        # The 8:00 lesson, or one begun a few minutes ago when the run is earlier in the day:
        # the server refuses entries for a lesson that has not started (issue 10, item 3).
        zone = ZoneInfo("Europe/Warsaw")
        midnight = dt.datetime.combine(today, dt.time(), tzinfo=zone)
        earlier = utcnow().astimezone(zone) - dt.timedelta(minutes=10)
        begins = max(midnight, min(dt.datetime.combine(today, dt.time(8, 0), tzinfo=zone), earlier))
        lessons = [
            Lesson(
                school_id=c.school_id,
                timetable_entry_id=entries[n].id,
                date=today,
                slot_number=1,
                starts_at=begins.astimezone(dt.UTC),
                ends_at=(begins + dt.timedelta(minutes=45)).astimezone(dt.UTC),
                class_id=c.id,
                subject_id=subjects[c.school_id].id,
                teacher_id=teachers[n].id,
                room_id=rooms[n].id,
            )
            for n, c in enumerate(classes)
        ]
        _bulk(SYSTEM, lessons)
        db.session.commit()
        # One-time codes as the school's administrator hands them out: a harness can enroll
        # each device through the real enrollment API (the bulk secrets serve the others).
        codes = [issue_enrollment_code(SYSTEM, device, minutes=120) for device in devices]
        db.session.commit()

        for n in range(kiosks):
            world.kiosks.append(
                {
                    "id": devices[n].id,
                    "secret": secrets[n],
                    "code": codes[n],
                    "teacher": teachers[n].login,
                    "lesson": lessons[n].id,
                    "pupils": [p.id for p in pupils[n * class_size : (n + 1) * class_size]],
                }
            )
        for link in links:
            world.guardians.setdefault(link.pupil_id, []).append(link.user_id)
            world.pupil_rooms.setdefault(link.user_id, []).append(f"pupil:{link.pupil_id}")
        world.parents = [(a.id, a.session_version) for a in accounts]
    db.session.remove()
    engine.dispose()
    return world


def _years(schools: list[Any]) -> list[int]:
    from ediary.schools.models import SchoolYear

    return [
        db.session.scalars(select(SchoolYear.id).where(SchoolYear.school_id == s.id)).one()
        for s in schools
    ]
