"""The fleet's read side and the heartbeat's write, at 94 kiosks and at ten times that.

    python -m bench.fleet --database-url sqlite:////tmp/fleet.db
    python -m bench.fleet --database-url postgresql+psycopg://postgres@127.0.0.1:5432/fleet

Creates the database (it must not exist; dropped at the end), builds the load benchmark's
district (bench/world.py: enrolled kiosks, a lesson in every room today, 4 schools) with
`--kiosks` kiosks, records one heartbeat per kiosk through the operation the `heartbeat` event
runs, then reads `fleet_states` and `fleet_counts` for every school (what the director's page,
the gmina's fleet page and the 8:15 board call). Prints medians: ms and SQL statements per
heartbeat; ms and statements per read. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from bench.roll_cost import scratch_database
from bench.world import build
from ediary import create_app
from ediary.audit.recording import Actor, Channel
from ediary.config import Config
from ediary.db import db, utcnow
from ediary.kiosks import fleet
from ediary.kiosks.heartbeat import record_heartbeat
from ediary.kiosks.models import Kiosk
from ediary.schools.models import School

READS = 30
READERS = (("fleet_states", fleet.fleet_states), ("fleet_counts", fleet.fleet_counts))


def run(url: str, kiosks: int) -> None:
    build(url, kiosks=kiosks, class_size=5, parents=kiosks * 2)
    app = create_app(
        Config(DATABASE_URL=url, SECRET_KEY="fleet-" + uuid.uuid4().hex, REDIS_URL=None)
    )
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    with app.app_context():
        assert db.engine is not None
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        event.listen(db.engine, "before_cursor_execute", count)
        ids = list(db.session.scalars(select(Kiosk.id).order_by(Kiosk.id)))
        beats: list[tuple[float, int]] = []
        for rounds in range(2):  # the first beat inserts the status row, later ones update it
            for kiosk_id in ids:
                statements[0] = 0
                started = time.perf_counter()
                kiosk = db.session.get_one(Kiosk, kiosk_id)
                report = {
                    "version": "0.1.0",
                    "outbox_depth": kiosk_id % 3,
                    "outbox_parked": 0,
                    "oldest_unsent_seconds": 30 * (kiosk_id % 3) or None,
                    "teacher_id": None,
                }
                record_heartbeat(Actor(None, Channel.KIOSK, kiosk_id), kiosk, report, utcnow())
                db.session.commit()
                if rounds:
                    beats.append(((time.perf_counter() - started) * 1000, statements[0]))
        schools = list(db.session.scalars(select(School.id)))
        reads: dict[str, list[tuple[float, int]]] = {"fleet_states": [], "fleet_counts": []}
        for _ in range(READS):
            for name, read in (
                ("fleet_states", fleet.fleet_states),
                ("fleet_counts", fleet.fleet_counts),
            ):
                db.session.expire_all()
                statements[0] = 0
                started = time.perf_counter()
                result = read(db.session, schools, utcnow())
                reads[name].append(((time.perf_counter() - started) * 1000, statements[0]))
                assert len(result) == (kiosks if name == "fleet_states" else len(schools))
            db.session.rollback()
        event.remove(db.engine, "before_cursor_execute", count)

    backend = make_url(url).get_backend_name()
    print(f"{backend}: {kiosks} kiosks in {len(schools)} schools")
    print(f"{'':<30}{'n':>6}{'ms (median)':>13}{'statements':>12}")
    for label, rows in (("heartbeat (update)", beats), *reads.items()):
        ms = statistics.median(r[0] for r in rows)
        st = statistics.median(r[1] for r in rows)
        print(f"{label:<30}{len(rows):>6}{ms:>13.2f}{st:>12.0f}")
    db.session.remove()
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a database to create and drop")
    parser.add_argument("--kiosks", type=int, nargs="+", default=[94, 940])
    args = parser.parse_args()
    for n in args.kiosks:
        base = make_url(args.database_url)
        url = base.set(
            database=f"{base.database}{n}"
            if base.get_backend_name() != "sqlite"
            else f"{base.database}.{n}"
        )
        with scratch_database(url.render_as_string(hide_password=False)) as scratch:
            run(scratch, n)


if __name__ == "__main__":
    main()
