"""The diary's XML export of a school's year (issue 17 item 3): seconds and memory for a year
of 300k+ rows, streamed. Figures only: nothing is asserted.

    python -m bench.records                       # a scratch SQLite file
    python -m bench.records --database-url postgresql+psycopg://postgres@127.0.0.1:5432/records_bench

Writes a synthetic school year with Core INSERTs (16 classes of 25 pupils, six lessons a day
for `--days` school days, a roll of every lesson: attendance is most of the rows), then exports
it twice, one class and then the whole school, and prints rows, seconds, rows per second and
the growth of the process's peak resident memory: a streamed export grows by about the same
for both. On PostgreSQL the tables are analysed first, as autovacuum has done long before a
year ends: without statistics the planner joins from the lessons on every page and the
school's export took 147 s instead of 16 s (measured 5 December 2026).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, text

from bench.roll_cost import scratch_database
from ediary import create_app
from ediary.config import Config
from ediary.db import Base, db
from ediary.diary.models import Attendance, AttendanceType, Presence
from ediary.people.models import User
from ediary.records import export
from ediary.records.contents import Scope
from ediary.schools.models import (
    District,
    Pupil,
    Room,
    School,
    SchoolClass,
    SchoolYear,
    Subject,
    Term,
)
from ediary.timetable.models import Lesson

UTC = dt.UTC


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def fill(days: int) -> int:
    """The school year; returns how many rows it wrote."""
    c = db.session.connection()
    c.execute(insert(District), [{"id": 1, "name": "Gmina"}])
    c.execute(insert(School), [{"id": 1, "district_id": 1, "name": "Szkoła", "short_name": "SP"}])
    start = dt.date(2025, 9, 1)
    c.execute(
        insert(SchoolYear),
        [
            {
                "id": 1,
                "school_id": 1,
                "name": "2025/2026",
                "starts_on": start,
                "ends_on": dt.date(2026, 6, 26),
            }
        ],
    )
    c.execute(
        insert(Term),
        [
            {
                "id": 1,
                "school_id": 1,
                "year_id": 1,
                "number": 1,
                "starts_on": start,
                "ends_on": dt.date(2026, 6, 26),
            }
        ],
    )
    c.execute(insert(User), [{"id": 1, "login": "n", "first_name": "Anna", "last_name": "Nowak"}])
    c.execute(insert(Room), [{"id": 1, "school_id": 1, "name": "1"}])
    c.execute(
        insert(Subject), [{"id": 1, "school_id": 1, "name": "matematyka", "short_name": "mat"}]
    )
    c.execute(
        insert(AttendanceType),
        [{"id": 1, "school_id": 1, "code": "ob", "name": "obecny", "counts_as": Presence.PRESENT}],
    )
    classes = [
        {"id": n, "school_id": 1, "year_id": 1, "name": f"{n}a", "grade_level": 4}
        for n in range(1, 17)
    ]
    c.execute(insert(SchoolClass), classes)
    pupils = [
        {
            "id": 25 * (k - 1) + p,
            "school_id": 1,
            "class_id": k,
            "first_name": "Uczeń",
            "last_name": f"N{k}-{p}",
        }
        for k in range(1, 17)
        for p in range(1, 26)
    ]
    c.execute(insert(Pupil), pupils)
    rows = 6 + len(classes) + len(pupils)
    lesson_id = 0
    day = start
    for _ in range(days):
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        lessons, marks = [], []
        for k in range(1, 17):
            for slot in range(1, 7):
                lesson_id += 1
                at = dt.datetime.combine(day, dt.time(7 + slot), tzinfo=UTC)
                lessons.append(
                    {
                        "id": lesson_id,
                        "school_id": 1,
                        "date": day,
                        "slot_number": slot,
                        "starts_at": at,
                        "ends_at": at + dt.timedelta(minutes=45),
                        "class_id": k,
                        "subject_id": 1,
                        "teacher_id": 1,
                        "room_id": 1,
                        "topic": "Temat lekcji",
                    }
                )
                marks += [
                    {
                        "school_id": 1,
                        "lesson_id": lesson_id,
                        "pupil_id": 25 * (k - 1) + p,
                        "type_id": 1,
                        "recorded_at": at,
                    }
                    for p in range(1, 26)
                ]
        c.execute(insert(Lesson), lessons)
        c.execute(insert(Attendance), marks)
        rows += len(lessons) + len(marks)
        day += dt.timedelta(days=1)
    return rows


def run(url: str, days: int) -> None:
    app = create_app(Config(DATABASE_URL=url, SECRET_KEY="bench-" + uuid.uuid4().hex))
    with app.app_context():
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        written = fill(days)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does to a production database's tables long before a year ends.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"{written} rows written ({days} school days)")
        for label, scope in (
            ("one class", Scope(1, 1, dt.date(2025, 9, 1), dt.date(2026, 6, 26), 1)),
            ("the whole school", Scope(1, 1, dt.date(2025, 9, 1), dt.date(2026, 6, 26))),
        ):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "dziennik.xml"
                before = _peak_kib()
                started = time.perf_counter()
                with path.open("wb") as out:
                    summary = export.write(db.session(), scope, out)
                seconds = time.perf_counter() - started
                grown = _peak_kib() - before
                started = time.perf_counter()
                export.validate(path)
                checked = time.perf_counter() - started
                size = path.stat().st_size / 2**20
                print(
                    f"{label}: {summary.total} rows, {size:.0f} MiB in {seconds:.1f} s "
                    f"({summary.total / seconds:,.0f} rows/s); peak memory grew "
                    f"{grown / 1024:.0f} MiB; validated against the XSD in {checked:.1f} s"
                )
            db.session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--days", type=int, default=180)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'records.db'}"
        with scratch_database(url) as made:
            run(made, args.days)


if __name__ == "__main__":
    main()
