"""The journal's lock in a herd, held as a server process holds it: every roll at once.

    python -m bench.herd_lock --database-url postgresql+psycopg://postgres@127.0.0.1:5432/herd_lock
    python -m bench.herd_lock --database-url ... --writers 5,15

Patched by gevent first, as a server process is (gunicorn's gevent worker). Creates the database
named in the URL (it must not exist; dropped at the end), builds the load benchmark's district
(bench/world.py: 94 kiosks, 25 pupils each, 3,000 parents, e-mail of absences switched on, as in
bench/roll_cost.py) and opens every teacher's kiosk session. Then, round after round, every
kiosk's roll is submitted at the same instant, each in a greenlet with its own app context (as
socket events are), through the `/kiosk` `submit` handler's code (`receipt.receive_submission`),
on the default connection pool. Rounds alternate between two or more ways:

- without `--writers`, the two ways a commit can wait for its round trips once it holds the
  lock: `exclusive`, as deployed, they do not yield to the other greenlets
  (`db.ExclusiveWaits`); `yielding`, as before, they do (`db._blocking_wait` set to None);
- with `--writers 5,15`, how many entries the process writes at once
  (`receipt.ENTRY_WRITERS`), exclusive waits for each.

Prints, per way, the ms each roll held the lock (from the end of the statement that took it, the
journal's INSERT, to the end of its COMMIT: the INSERT's own work after the grant is not counted;
median, p90, max, and the sum over a round, which the other writers of the district wait for),
the round's wall time and the process's CPU per roll (medians over the rounds). The first round
of each way warms up and is not counted (the very first records every pupil for the first
time). Figures only: nothing is asserted.
"""

from gevent import monkey

monkey.patch_all()

# The imports below come after the patch on purpose: psycopg chooses its wait function when it
# is imported, as it does in a server process.
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
from greenlet import getcurrent  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.roll_cost import CODES, district_arguments, prepare, scratch_database  # noqa: E402
from bench.world import BenchWorld  # noqa: E402
from ediary import db as ediary_db  # noqa: E402
from ediary.db import db  # noqa: E402
from ediary.kiosks import receipt  # noqa: E402
from ediary.kiosks.receipt import receive_submission  # noqa: E402


class Holds:
    """The lock's statement's end to the end of COMMIT, per greenlet."""

    def __init__(self) -> None:
        self.granted: dict[Any, float] = {}
        self.ms: list[float] = []

    def after_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "pg_advisory_xact_lock" in statement:
            self.granted[getcurrent()] = time.perf_counter()

    def committed(self, _session: Session) -> None:
        granted = self.granted.pop(getcurrent(), None)
        if granted is not None:
            self.ms.append((time.perf_counter() - granted) * 1000)


def _roll(info: dict[str, Any], token: str, round_number: int) -> dict[str, Any]:
    """Every pupil changed from what the previous round recorded (bench/roll_cost.py's cycle)."""
    states = {
        str(pupil): CODES[(k + round_number) % len(CODES)] for k, pupil in enumerate(info["pupils"])
    }
    base = {
        str(pupil): CODES[(k + round_number - 1) % len(CODES)] if round_number else None
        for k, pupil in enumerate(info["pupils"])
    }
    return {
        "key": str(uuid.uuid4()),
        "session": token,
        "lesson_id": info["lesson"],
        "kind": "roll",
        "payload": {"states": states, "base": base},
    }


def _herd(
    app: Any, world: BenchWorld, tokens: list[str], devices: list[dict[str, Any]], n: int
) -> float:
    """One round: every roll released at once; its wall time in seconds."""
    start = Event()
    acks: list[dict[str, Any]] = []

    def submit(k: int, info: dict[str, Any]) -> None:
        data = _roll(info, tokens[k], n)
        start.wait()
        with app.app_context():
            acks.append(receive_submission(devices[k], data))

    greenlets = [gevent.spawn(submit, k, info) for k, info in enumerate(world.kiosks)]
    gevent.sleep(0.1)  # every greenlet waits at the start line
    began = time.perf_counter()
    start.set()
    gevent.joinall(greenlets, raise_error=True)
    wall = time.perf_counter() - began
    refused = [ack for ack in acks if ack.get("status") != "applied"]
    if refused:
        raise SystemExit(f"rolls not applied: {refused[:3]}")
    return wall


@dataclass
class Way:
    """One way of taking a herd: its waits under the lock, and its entries' turns."""

    name: str
    exclusive: bool
    writers: int
    rounds: list[tuple[list[float], float, float]] = field(default_factory=list)  # holds, s, ms

    def apply(self, blocking: Any) -> None:
        ediary_db._blocking_wait = blocking if self.exclusive else None
        receipt.ENTRY_WRITERS = self.writers
        receipt._writers.cache_clear()


def ways_of(writers: str | None) -> list[Way]:
    deployed = receipt.ENTRY_WRITERS
    if not writers:
        return [Way("exclusive", True, deployed), Way("yielding", False, deployed)]
    return [Way(f"{n} writers", True, int(n)) for n in writers.split(",")]


def run(url: str, *, kiosks: int, parents: int, rounds: int, writers: str | None) -> None:
    assert make_url(url).get_backend_name() == "postgresql", "the journal's lock is PostgreSQL's"
    app, world, tokens, devices = prepare(url, kiosks=kiosks, parents=parents)
    assert db.engine is not None
    holds = Holds()
    event.listen(db.engine, "after_cursor_execute", holds.after_execute)
    event.listen(Session, "after_commit", holds.committed)
    blocking, deployed = ediary_db._blocking_wait, receipt.ENTRY_WRITERS
    ways = ways_of(writers)
    _herd(app, world, tokens, devices, 0)  # the first records every pupil: a warm-up
    n = 1
    for way in ways:  # each way's first herd warms it up (its connections, its statements)
        way.apply(blocking)
        _herd(app, world, tokens, devices, n)
        n += 1
    for r in range(rounds):
        for way in ways if r % 2 == 0 else ways[::-1]:  # ABBA: a drifting machine evens out
            way.apply(blocking)
            holds.ms = []
            cpu = time.process_time()
            wall = _herd(app, world, tokens, devices, n)
            way.rounds.append((holds.ms, wall, (time.process_time() - cpu) * 1000 / kiosks))
            n += 1
    ediary_db._blocking_wait, receipt.ENTRY_WRITERS = blocking, deployed
    receipt._writers.cache_clear()
    event.remove(db.engine, "after_cursor_execute", holds.after_execute)
    event.remove(Session, "after_commit", holds.committed)

    print(f"postgresql: {kiosks} kiosks, a roll of 25 each at once, {rounds} rounds of each way")
    print(
        f"{'way':<13}{'rolls':>6}{'hold p50':>10}{'p90':>8}{'max':>8}{'sum/round':>11}"
        f"{'wall s':>8}{'cpu ms/roll':>13}"
    )
    for way in ways:
        every = sorted(ms for held, _wall, _cpu in way.rounds for ms in held)
        per_round = statistics.median(sum(held) for held, _wall, _cpu in way.rounds)
        wall = statistics.median(w for _held, w, _cpu in way.rounds)
        cpu_ms = statistics.median(c for _held, _wall, c in way.rounds)
        p90 = every[int(len(every) * 0.9)]
        print(
            f"{way.name:<13}{len(every):>6}{statistics.median(every):>10.1f}{p90:>8.1f}"
            f"{every[-1]:>8.1f}{per_round:>11.0f}{wall:>8.2f}{cpu_ms:>13.2f}"
        )
    db.session.remove()
    db.engine.dispose()


def main() -> None:
    parser = district_arguments(__doc__, rounds=3, rounds_help="herds of each way")
    parser.add_argument(
        "--writers",
        metavar="N,M",
        help="compare how many entries the process writes at once, instead of the lock's waits",
    )
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        run(
            url,
            kiosks=args.kiosks,
            parents=args.parents,
            rounds=args.rounds,
            writers=args.writers,
        )


if __name__ == "__main__":
    main()
