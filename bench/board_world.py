"""A generated gmina for the board's benchmark: N schools, written in bulk.

Per school: 8 bell slots from 8:00, 12 classes of 22 pupils, 12 rooms with an enrolled kiosk
each, a teacher per class, and 7 lessons a day per class on `days` school days ending with the
benchmark's day, every past lesson with its full roll (so the day's attendance is a small part of
a big table, as in March). On the benchmark's day the rolls of slot 1 are all taken and those of
slot 2 in 9 classes out of 12 (the board then has rolls missing). The structure goes through the
operations (history included); pupils, lessons and attendance are inserted in bulk, without
history: the point is the board's reads, not the seeding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from ediary.access.revocation import access_changed
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType
from ediary.kiosks.models import Kiosk
from ediary.people.models import Membership, Role, User
from ediary.people.passwords import hash_password
from ediary.schools.models import District, Pupil, Room, SchoolClass, Subject
from ediary.schools.operations import create_district, create_school, create_school_year
from ediary.timetable.models import BellSlot, Lesson

SYSTEM = Actor.system(Channel.IMPORT)
WARSAW = ZoneInfo("Europe/Warsaw")
CLASSES, PUPILS, SLOTS, LESSONS_A_DAY = 12, 22, 8, 7
PASSWORD = "bench password 1234"  # noqa: S105 - an account of a throwaway benchmark database


@dataclass
class Gmina:
    district_id: int
    admin_login: str
    day: dt.date
    open_lessons: list[int]  # the day's slot-2 lessons without a roll


def _slot_start(number: int) -> dt.time:
    minutes = 8 * 60 + (number - 1) * 55
    return dt.time(minutes // 60, minutes % 60)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, WARSAW).astimezone(dt.UTC)


def _school_days(day: dt.date, count: int) -> list[dt.date]:
    days: list[dt.date] = []
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return sorted(days)


def build(schools: int, day: dt.date, days: int, tag: str) -> Gmina:
    district = create_district(SYSTEM, f"Gmina {tag}")
    admin = _admin(SYSTEM, district, tag)
    db.session.commit()
    open_lessons: list[int] = []
    for n in range(schools):
        open_lessons += _school(SYSTEM, district, n, day, days, tag)
        db.session.commit()
    return Gmina(district.id, admin.login, day, open_lessons)


@operation
def _admin(actor: Actor, district: District, tag: str) -> User:
    admin = User(login=f"gmina.{tag}", first_name="Admin", last_name="Gminy")
    admin.password_hash = hash_password(PASSWORD)
    db.session.add(admin)
    db.session.flush()
    db.session.add(Membership(user_id=admin.id, role=Role.DISTRICT_ADMIN, district_id=district.id))
    access_changed(admin.id)
    return admin


@operation
def _school(
    actor: Actor, district: District, n: int, day: dt.date, days: int, tag: str
) -> list[int]:
    school = create_school(SYSTEM, district, f"Szkoła nr {n + 1:03d}", f"S{n + 1}")
    year = (
        create_school_year(
            SYSTEM,
            school,
            dt.date(day.year - 1, 9, 1),
            dt.date(day.year, 2, 1),
            dt.date(day.year, 6, 26),
        )
        if day.month < 9
        else create_school_year(
            SYSTEM,
            school,
            dt.date(day.year, 9, 1),
            dt.date(day.year + 1, 2, 1),
            dt.date(day.year + 1, 6, 26),
        )
    )
    for slot in range(1, SLOTS + 1):
        start = _slot_start(slot)
        end = (dt.datetime.combine(day, start) + dt.timedelta(minutes=45)).time()
        db.session.add(BellSlot(school_id=school.id, number=slot, starts_at=start, ends_at=end))
    subject = Subject(school_id=school.id, name="matematyka", short_name="mat")
    db.session.add(subject)
    db.session.flush()
    s = school.id
    rooms = db.session.scalars(
        insert(Room).returning(Room.id),
        [{"school_id": s, "name": f"{r + 1}"} for r in range(CLASSES)],
    ).all()
    db.session.execute(
        insert(Kiosk),
        [
            {
                "school_id": s,
                "room_id": r,
                "name": f"PC {r}",
                "secret_hash": "x",
                "enrolled_at": _at(day, dt.time(7)),
            }
            for r in rooms
        ],
    )
    teachers = db.session.scalars(
        insert(User).returning(User.id),
        [
            {"login": f"t.{tag}.{s}.{c}", "first_name": "N", "last_name": f"{c}"}
            for c in range(CLASSES)
        ],
    ).all()
    classes = db.session.scalars(
        insert(SchoolClass).returning(SchoolClass.id),
        [
            {
                "school_id": s,
                "year_id": year.id,
                "name": f"{c % 8 + 1}{'abc'[c // 8]}",
                "grade_level": c % 8 + 1,
            }
            for c in range(CLASSES)
        ],
    ).all()
    pupils = {
        c: db.session.scalars(
            insert(Pupil).returning(Pupil.id),
            [
                {"school_id": s, "class_id": c, "first_name": "U", "last_name": f"{i}"}
                for i in range(PUPILS)
            ],
        ).all()
        for c in classes
    }
    types: dict[str, int] = {
        code: type_id
        for code, type_id in db.session.execute(
            select(AttendanceType.code, AttendanceType.id).where(AttendanceType.school_id == s)
        )
    }
    open_lessons: list[int] = []
    for date in _school_days(day, days):
        rows: list[dict[str, Any]] = []
        for ci, c in enumerate(classes):
            for slot in range(1, LESSONS_A_DAY + 1):
                start = _slot_start(slot)
                rows.append(
                    {
                        "school_id": s,
                        "date": date,
                        "slot_number": slot,
                        "starts_at": _at(date, start),
                        "ends_at": _at(date, start) + dt.timedelta(minutes=45),
                        "class_id": c,
                        "subject_id": subject.id,
                        "teacher_id": teachers[ci],
                        "room_id": rooms[ci],
                    }
                )
        lesson_ids = db.session.scalars(insert(Lesson).returning(Lesson.id), rows).all()
        marks = []
        for row, lesson_id in zip(rows, lesson_ids, strict=True):
            today = date == day
            if today and (
                row["slot_number"] > 2
                or (row["slot_number"] == 2 and rooms.index(row["room_id"]) >= 9)
            ):
                if row["slot_number"] == 2:
                    open_lessons.append(lesson_id)
                continue
            for i, p in enumerate(pupils[row["class_id"]]):
                code = "nb" if (i + lesson_id) % 13 == 0 else "ob"
                marks.append(
                    {"school_id": s, "lesson_id": lesson_id, "pupil_id": p, "type_id": types[code]}
                )
        if marks:
            db.session.execute(insert(Attendance), marks)
    return open_lessons
