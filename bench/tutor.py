"""The form tutor's page "Moja klasa" on the server: render time and weight for a class of 30
pupils with 8 subjects and 10 weeks of rolls (the issue sets no target for it; printed so a
regression shows).

    python -m bench.tutor                      # a throw-away SQLite file
    python -m bench.tutor --database-url postgresql+psycopg://.../empty_db

In process, through Flask's test client, the world of the tests (class 5a, tutor jan_kowalski),
all rolls written through the real operation. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.diary.operations import submit_roll
from ediary.schools.operations import enrol_pupil
from tests.conftest import app_bound_to
from tests.factories import World, make_lesson, make_subject, make_world

PUPILS, SUBJECTS, WEEKS = 30, 8, 10
CODES = ("ob", "ob", "ob", "nb", "ob", "u", "ob", "sp")


def build(world: World) -> str:
    for n in range(PUPILS - 2):  # the world's 5a has two
        office = Actor.system(Channel.IMPORT)
        enrol_pupil(office, world.class_a, f"Uczeń{n:02d}", f"Nazwisko{n:02d}")
    subjects = [world.math] + [
        make_subject(world.school, f"przedmiot {n}", f"p{n}") for n in range(1, SUBJECTS)
    ]
    pupils = [p.id for p in world.class_a.pupils]
    actor = Actor(world.teacher, Channel.IMPORT)
    for week in range(1, WEEKS + 1):
        for s, subject in enumerate(subjects):
            day = world.today - dt.timedelta(weeks=week)
            lesson = make_lesson(
                world.school, world.class_a, subject, world.teacher, world.room, day, s + 2
            )
            states = {p: CODES[(p + s + week) % len(CODES)] for p in pupils}
            submit_roll(actor, lesson, states, base=None)
        db.session.commit()
    return f"/tutor/classes/{world.class_a.id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tutor")
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite file)")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'tutor.db'}"
        with app_bound_to(url) as app:
            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            started = time.perf_counter()
            world = make_world()
            db.session.commit()
            path = build(world)
            backend = db.engine.url.get_backend_name()
            print(f"built in {time.perf_counter() - started:.1f} s on {backend}")
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = world.tutor.get_id()
                session["_fresh"] = True
            times, size = [], 0
            for _ in range(args.rounds):
                begun = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - begun) * 1000)
                assert response.status_code == 200, response.status_code
                size = len(response.data)
            ordered = sorted(times)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            print(f"'Moja klasa' {PUPILS} pupils × {SUBJECTS} subjects × {WEEKS} weeks of rolls:")
            print(f"  render ms p50 {statistics.median(times):.1f}  p95 {p95:.1f}")
            print(f"  weight {size / 1024:.1f} KB")
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
