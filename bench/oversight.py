"""The director's oversight pages' queries (issue 14 item 6) on the demo district: ms per call of
the missing entries, a page of the school's history (unfiltered and by class) and the figures per
class and subject, for the school with the most pupils.

    python -m bench.oversight                      # a scratch SQLite file, two weeks of lessons
    python -m bench.oversight --weeks 3 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/oversight

Creates the database named in the URL (it must not exist yet) and drops it at the end. Figures
only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from bench.roll_cost import scratch_database
from ediary import create_app
from ediary.audit.models import HistoryEntry
from ediary.config import Config
from ediary.db import Base, db, utcnow
from ediary.oversight import history
from ediary.oversight.queries import missing_entries
from ediary.oversight.stats import school_figures
from ediary.schools.models import Pupil, School, SchoolClass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--weeks", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="oversight-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'oversight.db'}"
    with scratch_database(url):
        app = create_app(Config(DATABASE_URL=url, SECRET_KEY=uuid.uuid4().hex, REDIS_URL=None))
        with app.app_context():
            from ediary.demo.seed import seed_demo

            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            started = time.perf_counter()
            seed_demo(weeks=args.weeks)
            db.session.commit()
            print(f"demo seeded ({args.weeks} weeks) in {time.perf_counter() - started:.1f} s")
            school_id = db.session.scalar(
                select(Pupil.school_id)
                .group_by(Pupil.school_id)
                .order_by(func.count(Pupil.id).desc())
                .limit(1)
            )
            rows = db.session.scalar(
                select(func.count(HistoryEntry.id)).where(HistoryEntry.school_id == school_id)
            )
            class_id = db.session.scalar(
                select(SchoolClass.id).where(SchoolClass.school_id == school_id).limit(1)
            )
        print(f"the school: {rows} history rows")
        calls: dict[str, Callable[[School], object]] = {
            "missing entries": lambda s: missing_entries(s, utcnow()),
            "history page": lambda s: history.page(s, history.Filters(), None),
            "history page, a class": lambda s: history.page(
                s, history.Filters(school_class=class_id), None
            ),
            "figures": lambda s: school_figures(s, utcnow().date(), with_names=True),
        }
        print(f"{'query':24s}  median ms  slowest ms")
        for name, call in calls.items():
            ms = []
            for _round in range(args.rounds):
                with app.app_context():
                    school = db.session.get_one(School, school_id)
                    started = time.perf_counter()
                    call(school)
                    ms.append((time.perf_counter() - started) * 1000)
                    db.session.remove()
            print(f"{name:24s}  {statistics.median(ms):9.1f}  {max(ms):10.1f}")


if __name__ == "__main__":
    main()
