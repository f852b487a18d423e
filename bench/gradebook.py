"""The gradebook grid's cost on the server: render time and weight of a full grid, and the time
to acknowledge one saved cell (issue 15's targets: p95 ≤ 150 ms and ≤ 150 KB for 30 pupils ×
60 columns; a cell p99 ≤ 100 ms).

    python -m bench.gradebook                      # a throw-away SQLite file
    python -m bench.gradebook --database-url postgresql+psycopg://.../empty_db

In process, through Flask's test client (no network, no gunicorn): the figures are the
server's own work for the request, the database's included. The world is the tests' (one school,
class 5a) with 30 pupils, 60 columns of mixed categories and a grade in every cell (some marks,
some improvements), all written through the real operations. Prints the figures; asserts
nothing (the targets are printed next to them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.diary.models import GradeCategory
from ediary.gradebook.operations import cell_grades, create_assessment, save_cell
from ediary.schools.operations import enrol_pupil
from ediary.timetable.models import TeachingAssignment
from ediary.timetable.queries import term_on
from tests.conftest import app_bound_to
from tests.factories import World, make_world

PUPILS, COLUMNS = 30, 60
VALUES = ("5", "4+", "3-", "2", "6", "1+", "np", "4", "3+", "5-", "bz", "+")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def build(world: World) -> tuple[str, list[tuple[int, int]]]:
    """30 pupils × 60 columns, every cell graded; returns the grid's path and the cells."""
    actor = Actor(world.teacher, Channel.WEB)
    for n in range(PUPILS - 2):  # the world's 5a has two
        enrol_pupil(
            Actor.system(Channel.IMPORT), world.class_a, f"Uczeń{n:02d}", f"Nazwisko{n:02d}"
        )
    assignment = db.session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.teacher_id == world.teacher.id)
    ).one()
    categories = list(
        db.session.scalars(select(GradeCategory).where(GradeCategory.school_id == world.school.id))
    )
    term = term_on(world.school.id, world.today)
    assert term is not None
    pupils = list(world.class_a.pupils)
    cells = []
    for c in range(COLUMNS):
        given_on = max(term.starts_on, world.today - dt.timedelta(days=COLUMNS - c))
        column = create_assessment(
            actor,
            assignment,
            category=categories[c % len(categories)],
            given_on=given_on,
            description=f"sprawdzian {c + 1}: ułamki zwykłe",
        )
        for p, pupil in enumerate(pupils):
            grade = save_cell(
                actor,
                column,
                pupil,
                VALUES[(c + p) % len(VALUES)],
                seen_grade_id=None,
                seen_version=None,
                today=world.today,
            )
            if grade is not None and (c + p) % 17 == 0 and grade.value in ("2", "1+"):
                save_cell(
                    actor,
                    column,
                    pupil,
                    "p4",
                    seen_grade_id=grade.id,
                    seen_version=grade.version,
                    today=world.today,
                )
            cells.append((column.id, pupil.id))
        db.session.commit()
    return f"/gradebook/{world.class_a.id}/{world.math.id}", cells


def measure(client: FlaskClient, path: str, cells: list[tuple[int, int]], rounds: int) -> None:
    render, render_cpu, size = [], [], 0
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        render.append((time.perf_counter() - started) * 1000)
        render_cpu.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, response.status_code
        size = len(response.data)
    token_match = TOKEN.search(response.get_data(as_text=True))
    assert token_match is not None
    token = token_match.group(1)
    save, save_cpu = [], []
    for n in range(rounds * 4):
        assessment_id, pupil_id = cells[(n * 37) % len(cells)]
        from ediary.gradebook.models import Assessment

        column = db.session.get(Assessment, assessment_id)
        assert column is not None
        current = cell_grades(column, pupil_id)[-1]
        seen = (str(current.id), str(current.version))
        db.session.rollback()  # the request reads afresh, as another process would
        started, cpu = time.perf_counter(), time.process_time()
        answer = client.post(
            path + "/cells",
            data={
                "csrf_token": token,
                "assessment": assessment_id,
                "pupil": pupil_id,
                "text": VALUES[n % 6],
                "grade": seen[0],
                "version": seen[1],
            },
        )
        save.append((time.perf_counter() - started) * 1000)
        save_cpu.append((time.process_time() - cpu) * 1000)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    print(f"grid {PUPILS} pupils × {COLUMNS} columns, {rounds} renders:")
    print(
        f"  render ms p50 {statistics.median(render):.1f}  p95 {_percentile(render, 0.95):.1f}"
        "  (target p95 ≤ 150)"
    )
    print(
        f"  render CPU ms p50 {statistics.median(render_cpu):.1f}"
        f"  p95 {_percentile(render_cpu, 0.95):.1f}  (this process's CPU: less the machine's load)"
    )
    print(f"  weight {size / 1024:.1f} KB  (target ≤ 150 KB)")
    print(f"cell saves ({len(save)}, each a correction with its version):")
    print(
        f"  ms p50 {statistics.median(save):.1f}  p99 {_percentile(save, 0.99):.1f}"
        "  (target p99 ≤ 100)"
    )
    print(f"  CPU ms p50 {statistics.median(save_cpu):.1f}  p99 {_percentile(save_cpu, 0.99):.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gradebook")
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite file)")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="gc.freeze() after building: the build's objects (a server has none of them) out of "
        "the collector's sight; without it the p95 includes full collections over them",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'gradebook.db'}"
        with app_bound_to(url) as app:
            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            started = time.perf_counter()
            world = make_world()
            db.session.commit()
            path, cells = build(world)
            backend = db.engine.url.get_backend_name()
            print(f"built in {time.perf_counter() - started:.1f} s on {backend}")
            if args.freeze:
                gc.collect()
                gc.freeze()
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = world.teacher.get_id()
                session["_fresh"] = True
            measure(client, path, cells, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
