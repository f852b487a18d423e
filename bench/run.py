"""`make bench`: realtime delivery under a lesson start and a thundering herd, against a baseline.

Starts the real server (gunicorn, gevent, provisioning/gunicorn.conf.py) as 1 process, then as 2
processes joined by a private redis-server; connects 3,000 parent sockets (`/live`) and 94 kiosk
clients (`/kiosk`, the real protocol: device secret, teacher login, idempotent `submit`), and
drives:

- lesson_start: each of the 94 kiosks submits its class roll (25 pupils) at a random moment
  within `--spread` seconds (DOMAIN.md: within a minute);
- herd: all 94 rolls at the same instant;
- remarks: each kiosk sends `REMARKS` remarks one after another, starting within a sixth of
  `--spread`: entries of one event each.

For each it also reads the server processes' CPU time (/proc) from the first submission to the
last delivery: CPU ms per submission, the entry with its delivery to every socket.

It measures the kiosk acknowledgement latency, write-to-parent latency (from the kiosk's submit to
the parent's socket), deliveries per second, lost and duplicated (event, parent) pairs, the
server's RSS per connection, and the same scenarios on a bare Socket.IO relay (bench/bare_app.py:
same sockets and rooms, no database) whose p99 our p99 is divided by. Prints a table and writes
bench/out/latest.json. Everything runs on 127.0.0.1; every loop is bounded.

The clients run in this one process under gevent; on a 2-core machine they share the CPU with the
server(s) and the database, so the figures include the clients' own queueing.
"""

from gevent import monkey

monkey.patch_all()

# ruff: noqa: E402 - the imports must come after monkey-patching
import argparse
import functools
import gc
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
import socketio
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

REMARKS = 10  # per kiosk in the `remarks` scenario
ROLL_SCENARIOS = ("lesson_start", "herd")  # each a round of rolls (`states_for`)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.world import PASSWORD, BenchWorld, build
from ediary.db import db, make_engine
from ediary.journal.models import JournalEvent
from tests.servers import (
    MissingTool,
    RedisServer,
    ServerConfig,
    ServerGroup,
    cpu_seconds,
    drop_pg_database,
    make_pg_database,
    postgres_unreachable,
    rss_kib,
)

SECRET = "bench-secret-" + uuid.uuid4().hex
CODES = ("ob", "nb", "sp")


# -- processes --------------------------------------------------------------------------------


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    try:
        server = RedisServer(directory).start()
    except MissingTool as missing:
        raise SystemExit(f"{missing}: the 2-process run needs it") from None
    try:
        yield server.url
    finally:
        server.stop()


# Through the local socket, as the provisioning's settings connect the server to a database on
# the same machine (TCP to 127.0.0.1 cost an entry an eighth more of the server's CPU).
PG_ADMIN_URL = os.environ.get(
    "EDIARY_BENCH_PG_URL", "postgresql+psycopg://postgres@/postgres?host=/var/run/postgresql"
)


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    url = make_pg_database(PG_ADMIN_URL, prefix="ediary_bench")
    try:
        yield url
    finally:
        drop_pg_database(PG_ADMIN_URL, url)


# -- clients ----------------------------------------------------------------------------------


def session_cookie(user_id: int, version: int) -> str:
    """A Flask-Login session as the login form would make it (the form allows 20 logins an hour
    per address: 3,000 parents log in here by signing with the server's key instead)."""
    app = Flask("ediary_bench_cookie", root_path=str(ROOT))
    app.secret_key = SECRET
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return f"session={serializer.dumps({'_user_id': f'{user_id}:{version}', '_fresh': True})}"


@dataclass
class Parent:
    user_id: int
    received: list[tuple[int, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", self._on_event, namespace="/live")

    def _on_event(self, message: dict[str, Any]) -> None:
        self.received.append((message["id"], time.monotonic()))

    def connect(self, url: str, *, cookie: str | None, rooms: list[str] | None) -> None:
        headers = {"Cookie": cookie} if cookie else {}
        self.sio.connect(
            url,
            headers=headers,
            auth={"rooms": rooms} if rooms is not None else None,
            transports=["websocket"],
            namespaces=["/live"],
            wait_timeout=60,
        )
        if cookie:
            ack = self.sio.call("resume", {"last_id": None}, namespace="/live", timeout=120)
            assert ack["ok"], ack


@dataclass
class Kiosk:
    info: dict[str, Any]
    token: str | None = None

    def __post_init__(self) -> None:
        self.sio = socketio.Client(reconnection=False)

    def connect(self, url: str, *, bare: bool) -> None:
        auth = None if bare else {"kiosk_id": self.info["id"], "secret": self.info["secret"]}
        self.sio.connect(
            url, auth=auth, transports=["websocket"], namespaces=["/kiosk"], wait_timeout=60
        )
        if not bare:
            ack = self.sio.call(
                "teacher_login",
                {"login": self.info["teacher"], "password": PASSWORD},
                namespace="/kiosk",
                timeout=120,
            )
            assert ack["ok"], ack
            self.token = ack["session"]

    def submit(self, states: dict[str, str], base: dict[str, str | None]) -> dict[str, Any]:
        return self._send("roll", {"states": states, "base": base}, self.info["pupils"], states)

    def remark(self, pupil: int) -> dict[str, Any]:
        """One remark about `pupil`: an entry of one event (the bare relay: a roll of one)."""
        payload = {"pupil_id": pupil, "remark_kind": "positive", "text": "Pomaga innym."}
        return self._send("remark", payload, [pupil], {str(pupil): "u"})

    def _send(
        self, kind: str, payload: dict[str, Any], pupils: list[int], states: dict[str, str]
    ) -> dict[str, Any]:
        """The entry as the kiosk agent sends it; the bare relay takes the pupils and states."""
        if self.token is None:  # the bare relay
            data = {"lesson": self.info["lesson"], "pupils": pupils, "states": states}
        else:
            data = {
                "key": str(uuid.uuid4()),
                "session": self.token,
                "kind": kind,
                "lesson_id": self.info["lesson"],
                "payload": payload,
            }
        return self.sio.call("submit", data, namespace="/kiosk", timeout=120)


def connect_all(items: list[Any], connect: Callable[[Any], None], concurrency: int = 100) -> None:
    pool = gevent.pool.Pool(concurrency)
    for item in items:
        pool.spawn(connect, item)
    pool.join(raise_error=True)


def disconnect_all(clients: list[Any]) -> None:
    pool = gevent.pool.Pool(200)
    for client in clients:
        pool.spawn(client.sio.disconnect)
    pool.join()


# -- scenarios --------------------------------------------------------------------------------


@dataclass
class Submitted:
    started: float
    acked: float
    event_ids: list[int]
    pupils: list[int] | None  # the bare relay says whose each event is; ediary's journal does


def states_for(kiosk: Kiosk, round_number: int) -> dict[str, str]:
    # Consecutive rounds give every pupil a different code, so every roll changes 25 states.
    return {
        str(p): CODES[(k + round_number) % len(CODES)] for k, p in enumerate(kiosk.info["pupils"])
    }


def base_for(kiosk: Kiosk, round_number: int) -> dict[str, str | None]:
    """What the screen showed: the previous round's states (none before the first). A roll
    applies a change only where the server still has it (docs/protocol.md)."""
    if round_number == 0:
        return dict.fromkeys(states_for(kiosk, 0))
    return dict(states_for(kiosk, round_number - 1))


class CollectorOff:
    """The longest garbage collection of this process (the clients, which timestamp every
    receipt) while a scenario runs: a pause here delays the receipts it stamps, and reads as
    the server's latency. So the collector is off while a scenario runs (a collection was 61-86
    ms with 3,000 client sockets in this process; `gc.freeze()` did not shorten it), and runs
    once after it; what is printed (`client_gc_longest_ms`) shows that none ran meanwhile."""

    def __init__(self) -> None:
        self.began = 0.0
        self.longest = 0.0
        gc.callbacks.append(self._note)
        gc.disable()

    def _note(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self.began = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self.began)

    def stop(self) -> float:
        gc.callbacks.remove(self._note)
        gc.enable()
        gc.collect()
        return round(self.longest * 1000, 1)


def drive(
    kiosks: list[Kiosk], offsets: list[float], round_number: int, *, remarks: int = 0
) -> tuple[float, list[Submitted]]:
    """Each kiosk's roll at its offset; or, with `remarks`, that many remarks one after another
    from its offset (each about the next pupil of its class)."""
    done: list[Submitted] = []
    origin = time.monotonic()

    def submit(kiosk: Kiosk, send: Callable[[], dict[str, Any]]) -> None:
        started = time.monotonic()
        ack = send()
        acked = time.monotonic()
        assert ack.get("ok"), ack
        done.append(Submitted(started, acked, list(ack["event_ids"]), ack.get("pupils")))

    def one(kiosk: Kiosk, offset: float) -> None:
        gevent.sleep(max(0.0, origin + offset - time.monotonic()))
        if not remarks:
            states, base = states_for(kiosk, round_number), base_for(kiosk, round_number)
            submit(kiosk, lambda: kiosk.submit(states, base))
        for n in range(remarks):
            pupil = kiosk.info["pupils"][n % len(kiosk.info["pupils"])]
            submit(kiosk, functools.partial(kiosk.remark, pupil))

    gevent.joinall(
        [gevent.spawn(one, k, o) for k, o in zip(kiosks, offsets, strict=True)], raise_error=True
    )
    return origin, done


def pupils_of_events(url: str | None, submitted: list[Submitted]) -> dict[int, int]:
    if url is None:
        return {e: p for s in submitted for e, p in zip(s.event_ids, s.pupils or [], strict=True)}
    ids = [i for s in submitted for i in s.event_ids]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(JournalEvent.id, JournalEvent.audience_id).where(JournalEvent.id.in_(ids))
            ).all()
    finally:
        engine.dispose()
    return {event_id: pupil_id for event_id, pupil_id in rows}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(
    world: BenchWorld,
    parents: list[Parent],
    origin: float,
    submitted: list[Submitted],
    event_pupils: dict[int, int],
    wait: float = 20.0,
) -> dict[str, Any]:
    started_of = {i: s.started for s in submitted for i in s.event_ids}
    expected = {
        (event_id, parent_id)
        for event_id, pupil in event_pupils.items()
        for parent_id in world.guardians.get(pupil, [])
    }
    deadline = time.monotonic() + wait
    by_id = {p.user_id: p for p in parents}

    def received() -> int:
        return sum(1 for p in parents for event_id, _ in p.received if event_id in started_of)

    while received() < len(expected) and time.monotonic() < deadline:
        gevent.sleep(0.1)
    gevent.sleep(0.5)  # anything doubled arrives now
    latencies, pairs, count, last = [], set(), 0, origin
    for parent in by_id.values():
        for event_id, at in parent.received:
            if event_id not in started_of:
                continue
            count += 1
            pairs.add((event_id, parent.user_id))
            latencies.append((at - started_of[event_id]) * 1000)
            last = max(last, at)
    acks = [(s.acked - s.started) * 1000 for s in submitted]
    first = min(s.started for s in submitted)
    return {
        "kiosk_ack_ms": {
            "p50": round(statistics.median(acks), 1),
            "p99": round(percentile(acks, 99), 1),
        },
        "write_to_parent_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p99": round(percentile(latencies, 99), 1) if latencies else None,
        },
        "deliveries": len(pairs & expected),
        "expected_deliveries": len(expected),
        "deliveries_per_s": round(len(pairs) / max(last - first, 1e-6), 1),
        "lost": len(expected - pairs),
        "duplicated": count - len(pairs),
        "unexpected": len(pairs - expected),
        "committed_s": round(max(s.acked for s in submitted) - first, 3),
        "pushed_s": round(last - first, 3),
    }


def run_config(
    world: BenchWorld,
    processes: int,
    redis_url: str | None,
    spread: float,
    round_base: int,
    log_dir: Path,
    bare: bool,
    seed: int,
    scenarios: list[str],
) -> dict[str, dict[str, Any]]:
    # Both apps on the production settings (provisioning/gunicorn.conf.py), quietly.
    env = {
        "EDIARY_LOG_LEVEL": "warning",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("EDIARY_BENCH_PATH", "")]),
    }
    if bare:
        config = ServerConfig(
            None,
            app="bench.bare_app:app",
            provisioned=True,
            env={**env, "BARE_REDIS_URL": redis_url or ""},
            name="bare",
        )
    else:
        config = ServerConfig(
            world.url,
            app=os.environ.get("EDIARY_BENCH_APP", "ediary.wsgi:app"),
            provisioned=True,
            env={**env, "EDIARY_SECRET_KEY": SECRET},
        )
    label = f"{'bare' if bare else 'ediary'} x{processes}"
    servers = ServerGroup([config] * processes, log_dir, redis_url=redis_url).start()
    parents = [Parent(user_id) for user_id, _ in world.parents]
    kiosks = [Kiosk(info) for info in world.kiosks]
    try:
        gevent.sleep(1.0)
        rss_before = rss_kib(servers.worker_pids())
        began = time.monotonic()
        connect_all(
            list(enumerate(parents)),
            lambda item: item[1].connect(
                servers[item[0] % processes].url,
                cookie=None if bare else session_cookie(item[1].user_id, 1),
                rooms=world.pupil_rooms.get(item[1].user_id, []) if bare else None,
            ),
        )
        connect_all(
            list(enumerate(kiosks)),
            lambda item: item[1].connect(servers[item[0] % processes].url, bare=bare),
            concurrency=20,
        )
        gevent.sleep(2.0)
        rss_after = rss_kib(servers.worker_pids())
        connections = len(parents) + len(kiosks)
        print(
            f"  {label}: {connections} sockets connected in {time.monotonic() - began:.1f} s, "
            f"server RSS {rss_before // 1024} -> {rss_after // 1024} MiB",
            flush=True,
        )
        results: dict[str, dict[str, Any]] = {}
        rng = random.Random(seed)  # noqa: S311 - arrival times, reproducible, not secrets
        plans = {
            "lesson_start": [rng.uniform(0, spread) for _ in kiosks],
            "herd": [0.0 for _ in kiosks],
            "remarks": [rng.uniform(0, spread / 6) for _ in kiosks],
        }
        plans = {name: offsets for name, offsets in plans.items() if name in scenarios}
        workers = servers.worker_pids()
        rolls = 0  # each roll scenario takes the next round, from the state the last one left
        for scenario, offsets in plans.items():
            pauses = CollectorOff()
            cpu_before = cpu_seconds(workers)
            origin, submitted = drive(
                kiosks, offsets, round_base + rolls, remarks=REMARKS if scenario == "remarks" else 0
            )
            rolls += scenario in ROLL_SCENARIOS
            event_pupils = pupils_of_events(None if bare else world.url, submitted)
            result = measure(world, parents, origin, submitted, event_pupils)
            # The server processes' CPU from the first submission to the last delivery (and the
            # 0.5 s `measure` waits for doubles), per submission: the entry with its delivery.
            cpu_ms = (cpu_seconds(workers) - cpu_before) * 1000
            result["submissions"] = len(submitted)
            result["server_cpu_ms_per_submission"] = round(cpu_ms / len(submitted), 2)
            result["rss_kb_per_connection"] = round((rss_after - rss_before) / connections, 1)
            result["processes"] = processes
            result["client_gc_longest_ms"] = pauses.stop()
            results[scenario] = result
            print(f"  {label} {scenario}: {json.dumps(result)}", flush=True)
            for parent in parents:
                parent.received.clear()
            gevent.sleep(1.0)
        return results
    finally:
        disconnect_all(parents + kiosks)
        servers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--spread",
        type=float,
        default=60.0,
        help="seconds over which the lesson start's 94 rolls arrive",
    )
    parser.add_argument("--parents", type=int, default=3000)
    parser.add_argument("--kiosks", type=int, default=94)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--scenarios", default="lesson_start,herd,remarks")
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the bare relay (no baseline_ratio_p99)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "latest.json"))
    args = parser.parse_args()
    if args.database == "postgresql" and postgres_unreachable(PG_ADMIN_URL):
        print("bench: PostgreSQL does not answer at EDIARY_BENCH_PG_URL; using SQLite", flush=True)
        args.database = "sqlite"
    print(
        f"bench: {args.kiosks} kiosks x 25 pupils, {args.parents} parents, "
        f"{args.database}, lesson start over {args.spread:.0f} s",
        flush=True,
    )
    out: dict[str, Any] = {}
    scenarios = args.scenarios.split(",")
    with database(args.database) as url:
        # Server logs stay for a look afterwards (bench/out/ is not committed).
        log_dir = Path(args.out).parent / "logs"
        shutil.rmtree(log_dir, ignore_errors=True)
        log_dir.mkdir(parents=True)
        began = time.monotonic()
        world = build(url, kiosks=args.kiosks, parents=args.parents)
        print(f"  world built in {time.monotonic() - began:.1f} s", flush=True)
        with redis_server(log_dir) as redis_url:
            round_base = 0
            for processes in (int(p) for p in args.processes.split(",")):
                queue = redis_url if processes > 1 else None
                ours = run_config(
                    world,
                    processes,
                    queue,
                    args.spread,
                    round_base,
                    log_dir,
                    bare=False,
                    seed=processes,
                    scenarios=scenarios,
                )
                bare = (
                    run_config(
                        world,
                        processes,
                        queue,
                        args.spread,
                        round_base,
                        log_dir,
                        bare=True,
                        seed=processes,
                        scenarios=scenarios,
                    )
                    if args.baseline
                    else {}
                )
                # The next configuration's rolls start where this one's left the rolls: a
                # round's `base` is the round before it (`base_for`), or its rolls change nothing.
                round_base += sum(scenario in ROLL_SCENARIOS for scenario in scenarios)
                suffix = "" if processes == 1 else f"_{processes}proc"
                for scenario, result in ours.items():
                    base = bare.get(scenario, {}).get("write_to_parent_ms", {})
                    baseline = base.get("p99")
                    ours_p99 = result["write_to_parent_ms"]["p99"]
                    result["baseline_write_to_parent_ms"] = base or None
                    result["baseline_rss_kb_per_connection"] = bare.get(scenario, {}).get(
                        "rss_kb_per_connection"
                    )
                    result["baseline_ratio_p99"] = (
                        round(ours_p99 / baseline, 2) if ours_p99 and baseline else None
                    )
                    bare_cpu = bare.get(scenario, {}).get("server_cpu_ms_per_submission")
                    result["baseline_server_cpu_ms_per_submission"] = bare_cpu
                    result["database"] = args.database
                    result["parents"], result["kiosks"] = args.parents, args.kiosks
                    out[scenario + suffix] = result
        db.session.remove()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    _print_table(out)
    print(f"written {args.out}")


def _print_table(out: dict[str, Any]) -> None:
    header = (
        f"{'scenario':<22}{'ack p50':>9}{'ack p99':>9}{'push p50':>10}{'push p99':>10}"
        f"{'x bare':>8}{'deliv/s':>9}{'lost':>6}{'dup':>5}{'KB/conn':>9}"
        f"{'commit s':>10}{'push s':>8}{'cpu ms':>8}{'bare':>6}"
    )
    print(header)
    for name, r in out.items():
        print(
            f"{name:<22}{r['kiosk_ack_ms']['p50']:>9}{r['kiosk_ack_ms']['p99']:>9}"
            f"{r['write_to_parent_ms']['p50']:>10}{r['write_to_parent_ms']['p99']:>10}"
            f"{r['baseline_ratio_p99']!s:>8}{r['deliveries_per_s']:>9}{r['lost']:>6}"
            f"{r['duplicated']:>5}{r['rss_kb_per_connection']:>9}{r['committed_s']:>10}"
            f"{r['pushed_s']:>8}{r['server_cpu_ms_per_submission']:>8}"
            f"{r['baseline_server_cpu_ms_per_submission']!s:>6}"
        )
    print("cpu ms: the server processes' CPU per submission (a roll of 25, or a remark), with")
    print("its delivery to the parents' sockets; bare: the bare relay's for the same traffic")


if __name__ == "__main__":
    main()
