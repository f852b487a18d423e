"""The council sheet of a whole school (issue 15 item 5; target: 16 classes ≤ 10 s): the
director's print view and PDF of every class at the year's council.

    python -m bench.council                      # a throw-away SQLite file
    python -m bench.council --database-url postgresql+psycopg://.../empty_db

In process, through Flask's test client, seeded like the other bench/ scripts on the tests'
world: its school gets 16 classes (4a-7d, 4-8 grades' pupils) of 25 pupils, 10 subjects taught
in each, a year grade per pupil and subject, a final behaviour grade per pupil and a year of
rolls (10 subjects × 20 weeks per class). Bulk rows are written in one operation per class
(channel `import`, as the demo seed does). Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import insert, select

from ediary.audit.recording import Actor, Channel, operation
from ediary.council.models import Behaviour, BehaviourGrade, BehaviourKind
from ediary.db import Base, db
from ediary.diary.models import Attendance, AttendanceType, Grade, GradeKind
from ediary.people.models import Role
from ediary.schools.models import Pupil, SchoolClass, Subject
from ediary.schools.operations import create_class, enrol_pupil
from ediary.timetable.models import Lesson
from ediary.timetable.operations import assign_teacher, local_datetime
from tests.conftest import app_bound_to
from tests.factories import World, make_subject, make_user, make_world

CLASSES, PUPILS, SUBJECTS, WEEKS = 16, 25, 10, 20
IMPORT = Actor.system(Channel.IMPORT)
VALUES = ("5", "4", "6", "3", "5", "2", "4", "5", "6", "1", "4", "nkl", "5", "3", "zw", "4")


@operation
def _bulk(actor: Actor, model: type, rows: Sequence[Mapping[str, object]]) -> None:
    if rows:
        db.session.execute(insert(model), rows)


def build(world: World) -> list[SchoolClass]:
    school, year = world.school, world.year
    last = year.terms[-1]
    subjects: list[Subject] = [world.math] + [
        make_subject(school, f"przedmiot {n}", f"p{n}") for n in range(1, SUBJECTS)
    ]
    teacher = make_user("bench_nauczyciel", Role.TEACHER, school=school)
    types = {t.code: t.id for t in db.session.scalars(
        select(AttendanceType).where(AttendanceType.school_id == school.id))}  # fmt: skip
    classes: list[SchoolClass] = []
    for c in range(CLASSES):
        level = 4 + c // 4
        school_class = create_class(IMPORT, year, f"{level}{'abcd'[c % 4]}x", level)
        db.session.flush()
        for subject in subjects:
            assign_teacher(IMPORT, teacher, school_class, subject)
        pupils = [
            enrol_pupil(IMPORT, school_class, f"Uczeń{n:02d}", f"Klasa{c:02d}Nazwisko{n:02d}")
            for n in range(PUPILS)
        ]
        db.session.flush()
        grades, behaviour = [], []
        for p, pupil in enumerate(pupils):
            for s, subject in enumerate(subjects):
                grades.append(dict(
                    school_id=school.id, pupil_id=pupil.id, subject_id=subject.id,
                    term_id=last.id, teacher_id=teacher.id, kind=GradeKind.YEAR,
                    value=VALUES[(p * 7 + s * 3 + c) % len(VALUES)], given_on=last.ends_on,
                    removed=False, version=1,
                ))  # fmt: skip
            behaviour.append(dict(
                school_id=school.id, term_id=last.id, pupil_id=pupil.id,
                kind=BehaviourKind.FINAL, value=list(Behaviour)[p % 6], version=1,
            ))  # fmt: skip
        _bulk(IMPORT, Grade, grades)
        _bulk(IMPORT, BehaviourGrade, behaviour)
        lessons = []
        for week in range(WEEKS):
            day = year.starts_on + dt.timedelta(weeks=week, days=c % 5)
            for s, subject in enumerate(subjects):
                start = dt.time(8 + s % 8)
                lessons.append(dict(
                    school_id=school.id, date=day, slot_number=s + 1,
                    starts_at=local_datetime(school, day, start),
                    ends_at=local_datetime(school, day, start) + dt.timedelta(minutes=45),
                    class_id=school_class.id, subject_id=subject.id, teacher_id=teacher.id,
                    room_id=world.room.id, version=1,
                ))  # fmt: skip
        _bulk(IMPORT, Lesson, lessons)
        lesson_ids = db.session.scalars(
            select(Lesson.id).where(Lesson.class_id == school_class.id)
        ).all()
        rolls = [
            dict(school_id=school.id, lesson_id=lesson_id, pupil_id=pupil.id,
                 type_id=types["nb" if (n + p) % 9 == 0 else "ob"], version=1)
            for n, lesson_id in enumerate(lesson_ids) for p, pupil in enumerate(pupils)
        ]  # fmt: skip
        _bulk(IMPORT, Attendance, rolls)
        db.session.commit()
        classes.append(school_class)
    return classes


def _timed(client: object, path: str, rounds: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds per request (the machine may be shared: CPU is this process's)."""
    times, cpu, size = [], [], 0
    for _ in range(rounds):
        begun, used = time.perf_counter(), time.process_time()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - begun)
        cpu.append(time.process_time() - used)
        assert response.status_code == 200, (path, response.status_code)
        size = len(response.data)
    return times, cpu, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.council")
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite file)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'council.db'}"
        with app_bound_to(url) as app:
            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            started = time.perf_counter()
            world = make_world()
            db.session.commit()
            build(world)
            backend = db.engine.url.get_backend_name()
            count = db.session.query(Pupil).filter(Pupil.school_id == world.school.id).count()
            print(f"built in {time.perf_counter() - started:.1f} s on {backend}: "
                  f"{CLASSES + 2} classes, {count} pupils")  # fmt: skip
            last = world.year.terms[-1]
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = world.school_admin.get_id()
                session["_fresh"] = True
                session["second_factor_passed"] = True
            base = f"/council/schools/{world.school.id}/sheet"
            for name, path in (("print view", base), ("PDF", f"{base}.pdf")):
                times, cpu, size = _timed(client, f"{path}?term={last.id}", args.rounds)
                print(f"whole school's council sheet, {name}: "
                      f"median {statistics.median(times):.2f} s  slowest {max(times):.2f} s"
                      f"  CPU median {statistics.median(cpu):.2f} s"
                      f"  ({size / 1024:.0f} KB; target ≤ 10 s)")  # fmt: skip
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
