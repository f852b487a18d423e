"""The grading rules' preview: how long "which averages would this change move" takes for a
school year's grades (issue 14 item 5). The page computes it on every preview request.

    python -m bench.gradingrules                   # a throw-away SQLite file
    python -m bench.gradingrules --pupils 300 --grades 20
    python -m bench.gradingrules --database-url postgresql+psycopg://.../empty_db

In process: the tests' world, `--pupils` pupils in 5a with `--grades` mathematics grades each
(mixed categories, +/-, marks), written through the real operation; then the preview of a
weight change, timed. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.diary.operations import record_grade
from ediary.diary.queries import attendance_types
from ediary.gradingrules.preview import averages_moved
from ediary.gradingrules.rules import read_rules
from ediary.schools.operations import enrol_pupil
from tests.conftest import app_bound_to
from tests.factories import make_world
from tests.gradingrules.helpers import categories, rules_form

VALUES = ("5", "4+", "3-", "2", "6", "1+", "np", "4", "3+", "5-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gradingrules")
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite file)")
    parser.add_argument("--pupils", type=int, default=150)
    parser.add_argument("--grades", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'rules.db'}"
        with app_bound_to(url) as app, app.test_request_context():
            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            started = time.perf_counter()
            world = make_world()
            pupils = [world.pupil, world.classmate]
            for n in range(args.pupils - len(pupils)):
                pupils.append(
                    enrol_pupil(Actor.system(Channel.IMPORT), world.class_a, f"U{n}", f"N{n}")
                )
            teacher = Actor(world.teacher, Channel.IMPORT)
            kinds = categories(world.school)
            for p, pupil in enumerate(pupils):
                for g in range(args.grades):
                    record_grade(
                        teacher,
                        pupil=pupil,
                        subject=world.math,
                        value=VALUES[(p + g) % len(VALUES)],
                        category=kinds[g % 3],
                        given_on=world.today - dt.timedelta(days=g % 7),
                    )
            db.session.commit()
            total = len(pupils) * args.grades
            print(f"built {total} grades in {time.perf_counter() - started:.1f} s")
            form = rules_form(world.school, **{f"weight-{world.test_category.id}": "1"})
            types = list(attendance_types(world.school.id).values())
            rules = read_rules(form, categories(world.school), types)
            samples = []
            for _round in range(args.rounds):
                db.session.expire_all()
                began = time.perf_counter()
                preview = averages_moved(world.school, world.year, rules)
                samples.append((time.perf_counter() - began) * 1000)
            print(
                f"preview of {total} grades ({preview.checked} averages, {preview.total} moved): "
                f"median {statistics.median(samples):.0f} ms, max {max(samples):.0f} ms "
                f"over {args.rounds} rounds on {db.engine.url.get_backend_name()}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
