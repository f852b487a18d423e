"""The office's search (issue 13 item 1) on the demo district: ms per query as the secretary
types, over 1,900 pupils and 3,048 guardians in ten schools.

    python -m bench.office_search                      # a scratch SQLite file
    python -m bench.office_search --database-url postgresql+psycopg://postgres@127.0.0.1:5432/office_search

Creates the database named in the URL (it must not exist yet) and drops it at the end, seeds
the demo district into it (its structure only: no weeks of lessons), then runs each query of a
secretary typing ("w", "wi", "wis", ... "wisniewska") against the largest school, in its own
app context as each request has, and prints the median and the slowest ms per prefix length.
Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from bench.roll_cost import scratch_database
from ediary import create_app
from ediary.config import Config
from ediary.db import Base, db
from ediary.demo.seed import seed_demo
from ediary.office.search import search
from ediary.schools.models import Pupil, School

TYPED = ("wisniewska", "kowalsk", "zofia nowak", "5a", "0823", "lukasik")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="office-search-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'office.db'}"
    with scratch_database(url):
        app = create_app(Config(DATABASE_URL=url, SECRET_KEY=uuid.uuid4().hex, REDIS_URL=None))
        with app.app_context():
            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            started = time.perf_counter()
            seed_demo(weeks=0)
            db.session.commit()
            print(f"demo seeded in {time.perf_counter() - started:.1f} s")
            school_id = db.session.scalar(
                select(Pupil.school_id)
                .group_by(Pupil.school_id)
                .order_by(func.count(Pupil.id).desc())
                .limit(1)
            )
            pupils = db.session.scalar(select(func.count(Pupil.id))) or 0
        timings: dict[int, list[float]] = {}
        for _round in range(args.rounds):
            for word in TYPED:
                for length in range(1, len(word) + 1):
                    with app.app_context():
                        school = db.session.get_one(School, school_id)
                        started = time.perf_counter()
                        search(school, word[:length])
                        timings.setdefault(length, []).append(
                            (time.perf_counter() - started) * 1000
                        )
                        db.session.remove()
        backend = url.split(":", 1)[0]
        print(f"office search on {backend}: {pupils} pupils in the district, the largest school")
        print("typed chars  queries  median ms  slowest ms")
        for length, ms in sorted(timings.items()):
            print(f"{length:11d}  {len(ms):7d}  {statistics.median(ms):9.2f}  {max(ms):10.2f}")
        every = [m for ms in timings.values() for m in ms]
        print(
            f"all: {len(every)} queries, median {statistics.median(every):.2f} ms, "
            f"p95 {sorted(every)[int(len(every) * 0.95)]:.2f} ms"
        )
        if db.engine is not None:
            db.engine.dispose()  # before the scratch database is dropped


if __name__ == "__main__":
    main()
