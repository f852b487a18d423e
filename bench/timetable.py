"""The timetable's bulk work on the demo district: what a director waits for.

    python -m bench.timetable --database-url sqlite:////tmp/timetable-bench.db

Creates the database (a new SQLite file, removed at the end; or a PostgreSQL URL of a database
that does not exist yet, dropped at the end), seeds the demo district into it, then for the
largest school measures, each in its own transaction (rolled back where it writes):

- the import's dry run of the school's whole plan written out as CSV (every row "unchanged");
- `apply_timetable` from today to the end of the school year (lessons made, seconds);
- the same again (nothing to do: the cost of looking);
- one cell edited with `set_cell` (its class's lessons to the end of the year made again).

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
import uuid

from sqlalchemy import func, select

from bench.roll_cost import scratch_database
from ediary import create_app
from ediary.audit.recording import Actor, Channel
from ediary.config import Config
from ediary.db import Base, db, utcnow
from ediary.demo.seed import seed_demo
from ediary.people.models import User
from ediary.schools.models import Room, School, SchoolClass, Subject
from ediary.schools.queries import school_today
from ediary.timetable.grid import class_cell, plan_on, set_cell
from ediary.timetable.imports.csvfile import read_csv
from ediary.timetable.imports.dryrun import dry_run
from ediary.timetable.models import TimetableEntry
from ediary.timetable.regenerate import apply_timetable

DAYS = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek")


def _plan_csv(school: School) -> bytes:
    lines = ["dzień;lekcja;klasa;grupa;przedmiot;nauczyciel;sala"]
    for e in plan_on(school.id, school_today(school)):
        a = e.assignment
        lines.append(
            ";".join(
                [
                    DAYS[e.weekday],
                    str(e.slot_number),
                    db.session.get_one(SchoolClass, a.class_id).name,
                    "",
                    db.session.get_one(Subject, a.subject_id).name,
                    db.session.get_one(User, a.teacher_id).full_name,
                    db.session.get_one(Room, e.room_id).name,
                ]
            )
        )
    return "\r\n".join(lines).encode("cp1250")


def _timed(label: str, work: object) -> object:
    assert callable(work)
    started = time.perf_counter()
    result = work()
    print(f"{label}: {time.perf_counter() - started:.2f} s  {result}")
    return result


def run(url: str) -> None:
    app = create_app(Config(DATABASE_URL=url, SECRET_KEY="bench-" + uuid.uuid4().hex))
    with app.app_context():
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        _timed("seeding the demo district", lambda: seed_demo().counts)
        db.session.commit()
        counts = db.session.execute(
            select(TimetableEntry.school_id, func.count()).group_by(TimetableEntry.school_id)
        ).all()
        school_id, entries = max(counts, key=lambda row: row[1])
        school = db.session.get_one(School, school_id)
        today = school_today(school)
        print(f"school: {school.name}, {entries} weekly entries, today {today}")
        actor = Actor.system(Channel.IMPORT)
        data = _plan_csv(school)

        def looked() -> dict[str, int]:
            result = dry_run(school, read_csv(data), today)
            return {s: result.count(s) for s in ("new", "changed", "unchanged", "refused")}

        _timed(f"dry run of the plan as CSV ({len(data)} bytes)", looked)
        _timed(
            "apply_timetable to the end of the year", lambda: apply_timetable(actor, school, today)
        )
        _timed(
            "apply_timetable again (nothing to do)", lambda: apply_timetable(actor, school, today)
        )
        first = db.session.scalars(
            select(SchoolClass).where(SchoolClass.school_id == school.id).order_by(SchoolClass.id)
        ).first()
        assert first is not None
        cell = class_cell(plan_on(school.id, today), first, 0, 1)
        _timed(
            f"set_cell: class {first.name}, Monday lesson 1 emptied",
            lambda: (
                set_cell(actor, school, first, 0, 1, None, None, from_date=today, seen=None)
                if cell
                else "empty already"
            ),
        )
        db.session.rollback()
    print(f"done at {utcnow():%H:%M:%S} UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        run(url)


if __name__ == "__main__":
    main()
