"""The server's cost of one kiosk roll, without sockets: CPU, SQL statements, advisory-lock time.

    python -m bench.roll_cost --database-url postgresql+psycopg://postgres@127.0.0.1:5432/roll_cost

Creates the database named in the URL (it must not exist yet; a SQLite file likewise), builds
the load benchmark's district in it (bench/world.py: 94 kiosks, 25 pupils each, 3,000 parents,
here with e-mail notifications switched on so that absences queue messages), opens every
teacher's kiosk session, then applies rolls one after another through the code the `/kiosk`
`submit` handler runs (`receipt.receive_submission`), each in its own app context as each socket
event has its own session. Round 0 records every pupil (inserts), later rounds change every
pupil's state (updates), as bench/run.py does. Drops the database at the end.

Prints medians: wall ms per roll (one process, nothing else running: mostly server CPU), the
CPU ms of this process per roll (`time.process_time`: the server's Python, not PostgreSQL's), SQL
statements per roll (`before_cursor_execute`; one executemany or insertmanyvalues batch counts
once), and ms from the end of the statement that takes the journal's advisory lock (the journal's
INSERT, which takes it first) to the end of COMMIT, the part that 94 simultaneous rolls serialise
on (0 on SQLite, which has no such lock).
With `--alternate-arrays`, every other submission writes its many rows as it did before
ediary/bulk.py (SQLAlchemy's executemany, psycopg's text arrays), in the same process and in
turn, so that the machine's drift between runs falls on both ways alike; each way gets its own
lines. `--profile` profiles CPU time (`time.process_time`), not the time spent waiting for
PostgreSQL. `--without-foreign-keys` drops the foreign keys of the tables an entry writes
before the first roll, to measure what PostgreSQL spends checking them (ediary keeps them).
Figures only: nothing is asserted.
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import statistics
import time
import uuid
from argparse import ArgumentParser
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, create_engine, event, insert, literal, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.by_layer import LayerClock
from bench.world import BenchWorld, build
from ediary import bulk, create_app
from ediary.audit.recording import Actor, Channel, operation
from ediary.config import Config
from ediary.contacts.models import ContactKind, ContactVerification
from ediary.db import db, utcnow
from ediary.kiosks.access import token_of
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import open_teacher_session
from ediary.kiosks.receipt import receive_submission
from ediary.notifications.models import NotificationPreference
from ediary.people.models import User
from ediary.realtime.delivery import JOURNAL_LOCK_KEY
from tests.servers import cpu_seconds

CODES = ("ob", "nb", "sp")  # present, absent, late: as bench/run.py cycles them
SYSTEM = Actor.system(Channel.IMPORT)


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """The database of `url`, created here and dropped afterwards."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or path.exists():
            raise SystemExit(f"give a new SQLite file, not {parsed.database!r}")
        try:
            yield url
        finally:
            path.unlink(missing_ok=True)
        return
    name = parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))  # fails if it exists: nothing clobbered
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@operation
def _switch_on_notifications(actor: Actor, parent_ids: list[int]) -> None:
    db.session.execute(
        update(User).where(User.id.in_(parent_ids)).values(email=User.login + "@example.org")
    )
    # Only proved addresses receive (ediary/contacts): these are, as if from the school's set-up.
    now = literal(utcnow(), ContactVerification.__table__.c.verified_at.type)
    db.session.execute(
        insert(ContactVerification).from_select(
            ["user_id", "kind", "address", "created_at", "verified_at", "sends", "attempts"],
            select(
                User.id,
                literal(ContactKind.EMAIL.value),
                User.email,
                now,
                now,
                literal(0),
                literal(0),
            ).where(User.id.in_(parent_ids)),
        )
    )
    # The defaults: e-mail of a pupil's first absence of the day (every roll here is slot 1).
    db.session.add_all(NotificationPreference(user_id=uid, email=True) for uid in parent_ids)


class Meter:
    """Counts statements and times the advisory lock, from engine and session events."""

    def __init__(self) -> None:
        self.statements = 0
        self.texts: Counter[str] = Counter()
        self.locked_at: float | None = None
        self.lock_ms: float | None = None

    def before_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        self.texts[" ".join(statement.split())[:110]] += 1

    def after_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "pg_advisory_xact_lock" in statement:
            self.locked_at = time.perf_counter()

    def transaction_end(self, _session: Session) -> None:
        if self.locked_at is not None:
            self.lock_ms = (time.perf_counter() - self.locked_at) * 1000
            self.locked_at = None


def _open_sessions(app: Flask, world: BenchWorld) -> list[str]:
    tokens = []
    with app.app_context():
        now = utcnow()
        for info in world.kiosks:
            kiosk = db.session.get(Kiosk, info["id"])
            teacher = db.session.query(User).filter_by(login=info["teacher"]).one()
            assert kiosk is not None
            row = open_teacher_session(
                Actor(teacher, Channel.KIOSK, kiosk.id), kiosk, teacher, now=now
            )
            tokens.append(row)
        db.session.commit()
        return [token_of(row) for row in tokens]


def prepare(
    url: str, *, kiosks: int, parents: int
) -> tuple[Flask, BenchWorld, list[str], list[dict[str, Any]]]:
    """The district built in the database of `url` (e-mail of absences switched on), its app,
    every teacher's kiosk session token, and each kiosk's device (`{"kiosk_id", "secret_hash"}`,
    as the socket knows it), in the order of `world.kiosks`."""
    world = build(url, kiosks=kiosks, parents=parents)
    app = create_app(
        Config(DATABASE_URL=url, SECRET_KEY="roll-cost-" + uuid.uuid4().hex, REDIS_URL=None)
    )
    with app.app_context():
        _switch_on_notifications(SYSTEM, [uid for uid, _version in world.parents])
        db.session.commit()
    tokens = _open_sessions(app, world)
    assert db.engine is not None
    if db.engine.dialect.name == "postgresql":
        # Statistics, as autovacuum keeps them on a server: plans for a freshly loaded
        # database without them scan whole tables.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    devices: list[dict[str, Any]] = []
    with app.app_context():
        for info in world.kiosks:
            kiosk = db.session.get(Kiosk, info["id"])
            assert kiosk is not None
            devices.append({"kiosk_id": kiosk.id, "secret_hash": kiosk.secret_hash})
    return app, world, tokens, devices


def submission_for(
    info: dict[str, Any], token: str, round_number: int, kind: str
) -> dict[str, Any]:
    """A kiosk's submission of round `round_number`: a remark about the round's pupil, or a
    roll changing every pupil's state from the previous round's (none before the first)."""
    if kind == "remark":
        pupil = info["pupils"][round_number % len(info["pupils"])]
        payload: dict[str, Any] = {"pupil_id": pupil, "remark_kind": "positive", "text": "Pomaga."}
    else:
        pupils = info["pupils"]
        payload = {
            "states": {
                str(pupil): CODES[(k + round_number) % len(CODES)] for k, pupil in enumerate(pupils)
            },
            # The previous round's states are what the screen showed.
            "base": {
                str(pupil): CODES[(k + round_number - 1) % len(CODES)] if round_number else None
                for k, pupil in enumerate(pupils)
            },
        }
    return {
        "key": str(uuid.uuid4()),
        "session": token,
        "lesson_id": info["lesson"],
        "kind": kind,
        "payload": payload,
    }


def run(
    url: str,
    *,
    kiosks: int,
    rounds: int,
    parents: int,
    show: bool,
    profile: str | None = None,
    kind: str = "roll",
    by_layer: bool = False,
    alternate: bool = False,
    without_keys: bool = False,
) -> None:
    app, world, tokens, devices = prepare(url, kiosks=kiosks, parents=parents)
    assert db.engine is not None
    if without_keys:
        drop_foreign_keys(db.engine, ENTRY_TABLES)
    meter = Meter()
    event.listen(db.engine, "before_cursor_execute", meter.before_execute)
    event.listen(db.engine, "after_cursor_execute", meter.after_execute)
    event.listen(Session, "after_commit", meter.transaction_end)
    event.listen(Session, "after_rollback", meter.transaction_end)
    samples: dict[tuple[str, str], list[tuple[float, float, int, float]]] = {}
    profiler = cProfile.Profile(time.process_time) if profile else None
    clock = LayerClock() if by_layer else None
    database = _DatabaseMeter(db.engine)
    with clock.installed() if clock is not None else contextlib.nullcontext():
        for round_number in range(rounds):
            for n, info in enumerate(world.kiosks):
                data = submission_for(info, tokens[n], round_number, kind)
                way = WAYS[(n + round_number) % 2] if alternate else ""
                meter.statements, meter.lock_ms = 0, None
                started, cpu_started = time.perf_counter(), time.process_time()
                if profiler is not None:
                    profiler.enable()
                with app.app_context(), _rows_as(way):
                    if clock is not None:
                        ack = clock.submission(receive_submission, devices[n], data)
                    else:
                        ack = receive_submission(devices[n], data)
                if profiler is not None:
                    profiler.disable()
                elapsed = (time.perf_counter() - started) * 1000
                cpu = (time.process_time() - cpu_started) * 1000
                if ack.get("status") != "applied":
                    raise SystemExit(f"roll not applied: {ack}")
                sample = ("insert" if round_number == 0 else "update", way)
                samples.setdefault(sample, []).append(
                    (elapsed, cpu, meter.statements, meter.lock_ms or 0.0)
                )
    database_cost = database.per_submission(rounds * len(world.kiosks))
    event.remove(db.engine, "before_cursor_execute", meter.before_execute)
    event.remove(db.engine, "after_cursor_execute", meter.after_execute)
    event.remove(Session, "after_commit", meter.transaction_end)
    event.remove(Session, "after_rollback", meter.transaction_end)

    backend = make_url(url).get_backend_name()
    what = "a remark each" if kind == "remark" else "25 pupils a roll"
    print(f"{backend}: {kiosks} kiosks x {rounds} rounds, {what}, {parents} parents")
    width = 40 if alternate else 28  # room for the ways' names
    print(
        f"{'submissions':<{width}}{'n':>5}{'ms each':>10}{'cpu ms':>10}{'statements':>12}"
        f"{'lock ms':>10}"
    )
    every = [s for kind in samples.values() for s in kind]
    rounds_of = {
        "insert": "first round" + (" (inserts)" if kind == "roll" else ""),
        "update": "later rounds" + (" (updates)" if kind == "roll" else ""),
    }
    for label, rows in [
        *(
            (f"{rounds_of[sample]}{way and ', ' + way}", rows)
            for (sample, way), rows in samples.items()
        ),
        ("all", every),
    ]:
        ms, cpu, statements, lock = (statistics.median(c) for c in zip(*rows, strict=True))
        print(
            f"{label:<{width}}{len(rows):>5}{ms:>10.2f}{cpu:>10.2f}{statements:>12.1f}{lock:>10.2f}"
        )
    if database_cost is not None:
        cpu_ms, wal_bytes = database_cost
        print(
            f"PostgreSQL per submission: {cpu_ms:.2f} ms of CPU (every postgres process of this "
            f"machine, its background writers included), {wal_bytes:,.0f} bytes of WAL"
        )
    if clock is not None:
        print("\nCPU ms per submission by layer, each layer's own (bench/by_layer.py):")
        for layer, ms in clock.per_submission_ms():
            print(f"{ms:7.3f}  {layer}")
        print(f"{sum(ms for _layer, ms in clock.per_submission_ms()):7.3f}  all")
    if profiler is not None and profile:
        profiler.dump_stats(profile)
        print(f"\nprofile of the rolls only: {profile} (python -m pstats {profile})")
        stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime")
        stats.print_stats(25)
    if show:
        print(f"\nstatements over all {len(every)} rolls (lock key {JOURNAL_LOCK_KEY}):")
        for statement, count in meter.texts.most_common():
            print(f"{count / len(every):7.2f}  {statement}")
    db.session.remove()
    db.engine.dispose()


# `--alternate-arrays`: the ways many rows are written, one submission each in turn.
WAYS = ("as arrays", "executemany")


@contextmanager
def _rows_as(way: str) -> Iterator[None]:
    """Many rows written as SQLAlchemy's executemany and psycopg's text arrays, as before
    ediary.bulk, for the block (`way` "executemany"); otherwise as they are."""
    if way != "executemany":
        yield
        return
    in_arrays, binary = bulk.in_arrays, bulk.BinaryArray
    bulk.in_arrays, bulk.BinaryArray = (lambda _connection: False), list  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        bulk.in_arrays, bulk.BinaryArray = in_arrays, binary  # type: ignore[misc]


class _DatabaseMeter:
    """What the submissions cost PostgreSQL, from the loop's start to its end: the CPU of every
    `postgres` process of this machine (/proc; the server is local) and the WAL written. Nothing
    on SQLite."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.postgresql = engine.dialect.name == "postgresql"
        self.start = (self._cpu_seconds(), self._wal()) if self.postgresql else None

    def _wal(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar())

    @staticmethod
    def _cpu_seconds() -> float:
        return cpu_seconds(_postgres_pids())

    def per_submission(self, submissions: int) -> tuple[float, float] | None:
        if self.start is None:
            return None
        cpu, wal = self._cpu_seconds() - self.start[0], self._wal() - self.start[1]
        return cpu * 1000 / submissions, wal / submissions


def _postgres_pids() -> list[int]:
    pids = []
    for command in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):  # gone meanwhile
            if command.read_text().strip() == "postgres":
                pids.append(int(command.parent.name))
    return pids


# The tables a roll or a remark writes, whose foreign keys PostgreSQL checks row by row (a
# trigger per key and row, each a lookup of the row referred to, share-locked).
ENTRY_TABLES = (
    "attendance",
    "remarks",
    "history",
    "journal",
    "outgoing_messages",
    "processed_submissions",
)


def drop_foreign_keys(engine: Engine, tables: tuple[str, ...]) -> None:
    """Drops the foreign keys of `tables`, saying which: `--without-foreign-keys`."""
    if engine.dialect.name != "postgresql":
        raise SystemExit("--without-foreign-keys measures PostgreSQL: give a PostgreSQL URL")
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        keys = conn.execute(
            text(
                "SELECT pg_class.relname, conname FROM pg_constraint"
                " JOIN pg_class ON pg_class.oid = pg_constraint.conrelid"
                " WHERE contype = 'f' AND pg_class.relname = ANY(:tables)"
            ),
            {"tables": list(tables)},
        ).all()
        for table, name in keys:
            # Names read from the catalogue, quoted as SQLAlchemy quotes them.
            conn.execute(text(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}"))
    print(f"dropped {len(keys)} foreign keys: {', '.join(f'{t}.{n}' for t, n in keys)}")


def district_arguments(description: str | None, *, rounds: int, rounds_help: str) -> ArgumentParser:
    """The command line every benchmark of the load district shares (`prepare`): the database
    to create and drop, the district's size and how many rounds to run."""
    parser = ArgumentParser(description=(description or "").split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a database to create and drop")
    parser.add_argument("--kiosks", type=int, default=94)
    parser.add_argument("--parents", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=rounds, help=rounds_help)
    return parser


def main() -> None:
    parser = district_arguments(__doc__, rounds=3, rounds_help="rolls per kiosk")
    parser.add_argument("--show-statements", action="store_true", help="statements per roll")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the rolls into FILE")
    parser.add_argument(
        "--by-layer", action="store_true", help="CPU per submission by layer (bench/by_layer.py)"
    )
    parser.add_argument(
        "--kind", choices=("roll", "remark"), default="roll", help="what each kiosk submits"
    )
    parser.add_argument(
        "--alternate-arrays",
        action="store_true",
        help="every other submission writes its rows as before ediary.bulk, figures for each",
    )
    parser.add_argument(
        "--without-foreign-keys",
        action="store_true",
        help="drop the foreign keys of the tables an entry writes first (PostgreSQL)",
    )
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        run(
            url,
            kiosks=args.kiosks,
            rounds=args.rounds,
            parents=args.parents,
            show=args.show_statements,
            profile=args.profile,
            kind=args.kind,
            by_layer=args.by_layer,
            alternate=args.alternate_arrays,
            without_keys=args.without_foreign_keys,
        )


if __name__ == "__main__":
    main()
