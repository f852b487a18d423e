"""What each layer costs of an entry: ediary, then SQLAlchemy's Core alone, then psycopg alone.

Its statements as ediary sends them, then the very same statements again through SQLAlchemy's
Core alone and through psycopg alone.

    python -m bench.layers --database-url postgresql+psycopg://postgres@127.0.0.1:5432/layers

Creates the database named in the URL (it must not exist; dropped at the end) and builds the
load benchmark's district, as bench/roll_cost.py does. Each kiosk then submits a remark (or a
roll, `--kind roll`) through the `/kiosk` `submit` handler's code (`receipt.receive_submission`),
round after round; every statement it sends is recorded with the parameters psycopg got. Each
recorded submission is then sent again in a transaction of its own, with a new idempotency key:

- `core`: `Connection.exec_driver_sql`, the statement text as SQLAlchemy compiled it, its rows
  fetched, then COMMIT: SQLAlchemy's execution, without its compiler, the ORM or ediary;
- `psycopg`: a cursor of the same pooled connection, `execute` or `executemany`, the rows
  fetched, then COMMIT: the driver alone.

Prints the median CPU ms of this process per submission (`time.process_time`: the Python side,
not PostgreSQL's) for each way, in rounds that alternate, and the wall ms. The difference
between two rows is what a layer adds. Figures only: nothing is asserted.
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.roll_cost import district_arguments, prepare, scratch_database, submission_for
from ediary.db import db
from ediary.kiosks.receipt import receive_submission

KEY_INSERT = "INSERT INTO processed_submissions"
MESSAGES_INSERT = "INSERT INTO outgoing_messages"  # unique per event, reader and channel


@dataclass
class Recorded:
    """The statements of one submission, as psycopg received them."""

    statements: list[tuple[str, Any, bool]] = field(default_factory=list)

    def before_execute(
        self, _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        self.statements.append((statement, params, many))

    def replayable(self, replay: int) -> list[tuple[str, Any, bool]]:
        """The statements with a new key, so that the key's INSERT is not a twin's, and the
        messages' event ids moved out of the way of the first sending's (`replay` from 1)."""
        fresh = str(uuid.uuid4())
        statements = []
        for text, params, many in self.statements:
            if KEY_INSERT in text:  # on PostgreSQL, in the journal's statement
                params = {**params, "w_key" if "w_key" in params else "key": fresh}
            elif text.startswith(MESSAGES_INSERT):
                params = [{**row, "event_id": row["event_id"] + replay * 10**12} for row in params]
            statements.append((text, params, many))
        return statements


def _core(connection: Any, statements: list[tuple[str, Any, bool]]) -> None:
    with connection.begin():
        for text, params, many in statements:
            result = connection.exec_driver_sql(text, params)
            if result.returns_rows and not many:
                result.all()


def _driver(raw: Any, statements: list[tuple[str, Any, bool]]) -> None:
    with raw.cursor() as cursor:
        for text, params, many in statements:
            if many:
                cursor.executemany(text, params)
            else:
                cursor.execute(text, params)
                if cursor.description is not None:
                    cursor.fetchall()
    raw.commit()


def run(url: str, *, kiosks: int, rounds: int, parents: int, kind: str) -> None:
    app, world, tokens, devices = prepare(url, kiosks=kiosks, parents=parents)
    assert db.engine is not None
    samples: dict[str, list[tuple[float, float]]] = {"ediary": [], "core": [], "psycopg": []}
    replays = 0
    for round_number in range(rounds):
        recorded: list[Recorded] = []
        for n, info in enumerate(world.kiosks):
            data = submission_for(info, tokens[n], round_number, kind)
            log = Recorded()
            event.listen(db.engine, "before_cursor_execute", log.before_execute)
            started, cpu_started = time.perf_counter(), time.process_time()
            with app.app_context():
                ack = receive_submission(devices[n], data)
            cpu, wall = time.process_time() - cpu_started, time.perf_counter() - started
            event.remove(db.engine, "before_cursor_execute", log.before_execute)
            if ack.get("status") != "applied":
                raise SystemExit(f"not applied: {ack}")
            if round_number:  # the first round only warms up (and records every pupil anew)
                samples["ediary"].append((cpu * 1000, wall * 1000))
            recorded.append(log)
        if not round_number:
            continue
        with db.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            for log in recorded:
                for way in ("core", "psycopg"):
                    replays += 1
                    statements = log.replayable(replays)
                    started, cpu_started = time.perf_counter(), time.process_time()
                    if way == "core":
                        _core(connection, statements)
                    else:
                        _driver(raw, statements)
                    cpu = time.process_time() - cpu_started
                    samples[way].append((cpu * 1000, (time.perf_counter() - started) * 1000))
    count = len(recorded[0].statements)
    print(f"{kiosks} kiosks x {rounds - 1} rounds of a {kind} each ({count} statements)")
    print(f"{'way':<10}{'n':>6}{'cpu ms':>10}{'wall ms':>10}")
    for way, rows in samples.items():
        cpu_ms = statistics.median(r[0] for r in rows)
        wall_ms = statistics.median(r[1] for r in rows)
        print(f"{way:<10}{len(rows):>6}{cpu_ms:>10.2f}{wall_ms:>10.2f}")
    db.session.remove()
    db.engine.dispose()


def main() -> None:
    parser = district_arguments(__doc__, rounds=4, rounds_help="the first only warms up")
    parser.add_argument("--kind", choices=("remark", "roll"), default="remark")
    args = parser.parse_args()
    if make_url(args.database_url).get_backend_name() != "postgresql":
        raise SystemExit("give a PostgreSQL URL: the layers measured are psycopg's")
    with scratch_database(args.database_url) as url:
        run(url, kiosks=args.kiosks, rounds=args.rounds, parents=args.parents, kind=args.kind)


if __name__ == "__main__":
    main()
