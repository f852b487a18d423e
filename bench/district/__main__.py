"""`python -m bench.district`: a district morning and fault drills against the production
topology on loopback, with a ledger after every phase.

Starts (cluster.py) a PostgreSQL cluster of its own, Redis, N single-worker gunicorn/gevent
processes and nginx rendered from provisioning/; seeds a district (bench/world.py); connects
kiosks (actors.KioskSim: the kiosk agent's own SQLite outbox, sender and supervised connection,
a device credential, the teacher's login) and parents (actors.ParentSim: logged in through the
login form, then `resume` on /live; in `parent_processes` processes of their own, crowd.py, so
that the kiosks in this one never wait behind them). Each connection to nginx leaves from its own
loopback address (sources.py), so the sticky hashing spreads them over the servers and the
per-address rate limits count each client apart, as for phones.
Then the phases:

- lesson_start: every kiosk sends its class roll at a random moment within `spread` seconds;
- herd: every kiosk's roll at the same instant;
- tenfold: remarks at `tenfold_rate` entries/s in all for `tenfold_s` seconds;
- kill9 / pg_restart / redis_stop / kiosk_cut / parent_cut: a stream of remarks from every
  kiosk with the fault `lead_s` in: kill -9 of a server's worker `kills` times (its process stops
  and is started again, as systemd does: cluster.py); PostgreSQL stopped with
  `-m immediate` and started again `pg_restarts` times; Redis stopped `redis_s`;
  kiosk 0's network (a loopback proxy) cut `cut_s` while its teacher keeps entering; the proxy
  that 30 % of the parents use cut `parent_cut_s`;
- hold: parent sockets up to `hold_sockets` (a parent's phone and tablet), idle for `hold_s`:
  the servers' and nginx's memory per socket and their CPU.

After each phase the outboxes drain and the LEDGER is checked: submitted, acknowledged (the
outboxes' synced entries), stored (idempotency rows of the keys), lost (submitted, not stored),
duplicated (remark rows beyond one per entry), expected_deliveries (journal events of the entries
x guardians simulated), delivered, foreign (events received by a parent who may not see them),
false_acks (acknowledged, not stored; and, for pg_restart, acknowledged while PostgreSQL was
down). Writes bench/out/district.json and .md (and, with --merge-into, the realtime benchmark's
latest.json, with ratios to its bare Socket.IO relay); exits 1 on any mismatch.
"""

from gevent import monkey

monkey.patch_all()

# ruff: noqa: E402 - the imports must come after monkey-patching
import argparse
import contextlib
import io
import json
import math
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
from sqlalchemy import create_engine, func, select

from bench.district.actors import Entry, KioskSim, ParentSim, http_login
from bench.district.cluster import Cluster
from bench.district.crowd import Crowd, RemoteParent
from bench.district.figures import cpu_use, memory_per_socket
from bench.district.netcut import NetCut
from bench.district.sources import spread_sources
from bench.world import PASSWORD, BenchWorld, build
from ediary.diary.models import Remark
from ediary.journal.models import JournalEvent
from ediary.kiosks.models import ProcessedSubmission
from kiosk.outbox import State
from kiosk.protocol import remark_payload
from tests.servers import ROOT, MissingTool, cpu_seconds, rss_kib

# mkdtemp makes a private directory in it, so the shared /dev/shm is safe to use here.
SHM = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108

PROFILES: dict[str, dict[str, Any]] = {
    "ci": {
        "kiosks": 8,
        "parents": 150,
        "parent_processes": 1,
        "processes": 2,
        "spread": 5.0,
        "stream_s": 10.0,
        "rate": 3.0,
        "lead_s": 2.0,
        "outage_s": 3.0,
        "kills": 2,
        "pg_restarts": 1,
        "redis_s": 5.0,
        "cut_s": 6.0,
        "tenfold_rate": 60.0,
        "tenfold_s": 5.0,
        "parent_cut_share": 0.3,
        "parent_cut_s": 5.0,
        "hold_sockets": 400,
        "hold_s": 5.0,
    },
    # The figures: 94 kiosks, 3,000 parents, 400 entries/s for 60 s, 10,000 sockets
    # held 5 minutes; kill -9 five times, three immediate PostgreSQL restarts, Redis down 30 s,
    # a kiosk cut 10 minutes, 30 % of the parents cut 60 s.
    "full": {
        "kiosks": 94,
        "parents": 3000,
        "parent_processes": 1,
        "processes": 2,
        "spread": 60.0,
        "stream_s": 90.0,
        "rate": 0.3,
        "lead_s": 15.0,
        "outage_s": 10.0,
        "kills": 5,
        "pg_restarts": 3,
        "redis_s": 30.0,
        "cut_s": 600.0,
        "tenfold_rate": 400.0,
        "tenfold_s": 60.0,
        "parent_cut_share": 0.3,
        "parent_cut_s": 60.0,
        "hold_sockets": 10000,
        "hold_s": 300.0,
    },
    # Issue 19 item 5: a city on this machine. As many server processes as 2 cores allow (2 for
    # people, 2 for kiosks), 1,000 classrooms at a lower duty cycle (every roll of a lesson start
    # spread over 2 minutes; a remark per kiosk every 50 s in the fault stream, 20/s in all), as
    # many parents as fit beside them, in 2 processes of the harness beside the kiosks' one.
    # --kiosks, --parents and --spread shrink it.
    "city": {
        "kiosks": 1000,
        "parents": 3000,
        "parent_processes": 2,
        "processes": 2,
        "kiosk_processes": 2,
        "phases": "lesson_start,kill9",
        "spread": 120.0,
        "stream_s": 60.0,
        "rate": 0.02,
        "lead_s": 15.0,
        "outage_s": 10.0,
        "kills": 2,
        "pg_restarts": 1,
        "redis_s": 10.0,
        "cut_s": 60.0,
        "tenfold_rate": 200.0,
        "tenfold_s": 30.0,
        "parent_cut_share": 0.3,
        "parent_cut_s": 30.0,
        "hold_sockets": 10000,
        "hold_s": 60.0,
    },
}
PHASES = (
    "lesson_start",
    "herd",
    "tenfold",
    "kill9",
    "pg_restart",
    "redis_stop",
    "kiosk_cut",
    "parent_cut",
    "hold",
)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 1)


class Harness:
    def __init__(self, args: argparse.Namespace, profile: dict[str, Any]) -> None:
        self.args = args
        self.p = profile
        self.cluster = Cluster(profile["processes"], profile.get("kiosk_processes", 0))
        self.kiosks: list[KioskSim] = []
        self.crowd: Crowd | None = None
        self.parents: list[RemoteParent] = []
        self.kiosk_proxy: NetCut | None = None
        self.parent_proxy: NetCut | None = None
        self.cut_parents: list[RemoteParent] = []
        self.world: BenchWorld | None = None
        self.engine: Any = None
        self.round = 0
        self.results: dict[str, Any] = {}
        # The kiosks' outboxes: on tmpfs, since 94 classroom disks are not one disk here.
        self.outboxes = Path(tempfile.mkdtemp(prefix="ediary-district-kiosks-", dir=SHM))

    # -- setup -------------------------------------------------------------------------------

    def setup(self) -> None:
        began = time.monotonic()
        self.cluster.start_database()
        self.world = build(
            self.cluster.database_url, kiosks=self.p["kiosks"], parents=self.p["parents"]
        )
        self.kiosk_proxy = NetCut(self.cluster.port)
        self.parent_proxy = NetCut(self.cluster.port)
        parent_proxy_url = f"https://127.0.0.1:{self.parent_proxy.port}"
        self.cluster.start_rest(extra_origins=(parent_proxy_url,))
        self.engine = create_engine(self.cluster.database_url, pool_pre_ping=True)
        spread_sources([self.cluster.port])
        self.results["_setup"] = {"rss_kib_before": self.cluster.rss_by_kind()}
        print(f"  cluster up in {time.monotonic() - began:.1f} s ({self.cluster.tmp})", flush=True)
        url = self.cluster.url
        # Every parent logs in through the form, as a phone does (each from its own address:
        # the form's limit is 20 logins an hour per address).
        world = self.world

        def log_in(n: int) -> tuple[int, str]:
            return world.parents[n][0], http_login(url, f"parent{n:04d}", PASSWORD)

        cookies = dict(gevent.pool.Pool(20).imap_unordered(log_in, range(len(world.parents))))
        logged_in = time.monotonic() - began
        # Every tenth parent from the 1st, 2nd and 3rd on: 30 % reach the front through the
        # proxy that the parent_cut drill cuts (a mobile network going down).
        share = round(self.p["parent_cut_share"] * 10)
        self.crowd = Crowd(
            [
                (uid, parent_proxy_url if n % 10 < share else url, cookies[uid])
                for n, (uid, _) in enumerate(self.world.parents)
            ],
            self.p["parent_processes"],
            [self.cluster.port],
        )
        self.parents = self.crowd.parents
        self.cluster.client_pids = [popen.pid for popen in self.crowd.popens]
        self.cut_parents = [p for p in self.parents if p.url == parent_proxy_url]
        self.crowd.wait_resumed(60 + len(self.parents) / 10)
        kiosk_proxy_url = f"https://127.0.0.1:{self.kiosk_proxy.port}"

        def kiosk(n: int) -> KioskSim:
            info = world.kiosks[n]
            cert = str(self.cluster.cert)
            return KioskSim(info, kiosk_proxy_url if n == 0 else url, PASSWORD, self.outboxes, cert)

        # Enrolled 20 at a time (a city's thousand one by one would take minutes), in order.
        with contextlib.redirect_stdout(io.StringIO()):  # enrollment's report, once for all
            self.kiosks = list(gevent.pool.Pool(20).imap(kiosk, range(len(world.kiosks))))
        wait_all(
            [k.logged_in for k in self.kiosks], 60 + len(self.kiosks) / 4, "teachers logged in"
        )
        print(
            f"  {len(self.parents)} parents logged in through the form by "
            f"{logged_in:.1f} s and resumed ("
            f"{len(self.cut_parents)} through the cuttable proxy), {len(self.kiosks)} kiosks "
            f"logged in (kiosk 0 through its cuttable proxy) in {time.monotonic() - began:.1f} s",
            flush=True,
        )
        gevent.sleep(2)
        self.results["_setup"] = memory_per_socket(
            self.results["_setup"]["rss_kib_before"],
            self.cluster.rss_by_kind(),
            parents=len(self.parents),
            kiosks=len(self.kiosks),
            split=self.cluster.kiosk_processes > 0,
        )
        self.results["_setup"]["setup_s"] = round(time.monotonic() - began, 1)
        print(f"  memory: {json.dumps(self.results['_setup'])}", flush=True)

    # -- phases ------------------------------------------------------------------------------

    def roll(self, kiosk: KioskSim) -> Entry:
        codes = ("ob", "nb", "sp")
        pupils = list(enumerate(kiosk.info["pupils"]))
        states = {str(p): codes[(k + self.round) % 3] for k, p in pupils}
        # What the screen showed: the previous round's states (none before the first round).
        base = {
            str(p): codes[(k + self.round - 1) % 3] if self.round > 1 else None for k, p in pupils
        }
        return kiosk.add("roll", {"states": states, "base": base})

    def rolls(self, spread: float) -> list[Entry]:
        """Every kiosk's roll, each at a random moment within `spread` s (0: all at once)."""
        self.round += 1
        rng = random.Random(self.round)  # noqa: S311 - arrival times, not secrets
        entries: list[Entry] = []
        gate = gevent.event.Event()

        def one(kiosk: KioskSim, delay: float) -> None:
            gate.wait()
            gevent.sleep(delay)
            entries.append(self.roll(kiosk))

        workers = [gevent.spawn(one, k, rng.uniform(0, spread)) for k in self.kiosks]
        gevent.sleep(0)  # every greenlet waits at the gate: the herd leaves together
        gate.set()
        gevent.joinall(workers)
        return entries

    def stream(
        self, fault: Any = None, rate: float | None = None, seconds: float | None = None
    ) -> tuple[list[Entry], dict[str, Any]]:
        """Every kiosk's teacher enters a remark `rate` times a second for `seconds`; the fault
        starts `lead_s` in. The stream goes on whatever the fault does: the outboxes keep it."""
        entries: list[Entry] = []
        rate = rate or self.p["rate"]
        stop_at = time.monotonic() + (seconds or self.p["stream_s"])
        info: dict[str, Any] = {}

        def teacher(kiosk: KioskSim, n: int) -> None:
            gevent.sleep(n / len(self.kiosks) / rate)  # spread over one interval
            k = 0
            next_at = time.monotonic()
            while time.monotonic() < stop_at:
                pupil = kiosk.info["pupils"][k % len(kiosk.info["pupils"])]
                marker = f"district {uuid.uuid4()}"
                entries.append(
                    kiosk.add("remark", remark_payload(pupil, "neutral", marker), marker)
                )
                k += 1
                next_at += 1.0 / rate
                gevent.sleep(max(0.0, next_at - time.monotonic()))

        def run_fault() -> None:
            gevent.sleep(self.p["lead_s"])
            info.update(fault() or {})

        gevent.joinall(
            [gevent.spawn(teacher, k, n) for n, k in enumerate(self.kiosks)]
            + ([gevent.spawn(run_fault)] if fault else [])
        )
        return entries, info

    def fault_kill9(self) -> dict[str, Any]:
        kills = []
        before = len(self.cluster.killed)
        for n in range(self.p["kills"]):
            # Every process in turn; in the split layout people's and kiosks' alike.
            if self.cluster.kill_worker(n % self.cluster.total):
                kills.append(time.monotonic())
            gevent.sleep(self.p["outage_s"])
        return {
            "killed_workers": len(kills),
            "killed": self.cluster.killed[before:],  # which kind of process, in order
            "back_from": kills,
        }

    def fault_pg_restart(self) -> dict[str, Any]:
        assert self.cluster.pg is not None
        downs = []
        for _ in range(self.p["pg_restarts"]):
            self.cluster.pg.stop("immediate")
            down = time.monotonic()  # pg_ctl -w returns once the processes are gone
            gevent.sleep(self.p["outage_s"])
            up = time.monotonic()  # nothing can commit before this
            self.cluster.pg.start()
            downs.append((down, up))
            gevent.sleep(self.p["outage_s"])
        return {
            "pg_restarts": len(downs),
            "db_down": downs,
            "pg_down_s": round(sum(b - a for a, b in downs), 1),
            "back_from": [up for _, up in downs],
        }

    def fault_redis_stop(self) -> dict[str, Any]:
        assert self.cluster.redis is not None and self.world is not None
        self.cluster.redis.stop()
        began = time.monotonic()
        # Parents still log in through the form (its rate limit counts in Redis normally).
        logins = 0
        for n in range(3):
            with contextlib.suppress(Exception):  # a refused login is what this counts
                http_login(self.cluster.url, f"parent{n:04d}", PASSWORD)
                logins += 1
        gevent.sleep(max(0.0, self.p["redis_s"] - (time.monotonic() - began)))
        self.cluster.redis.start()
        return {
            "redis_down_s": self.p["redis_s"],
            "form_logins_while_down": f"{logins}/3",
            "back_from": [time.monotonic()],
        }

    def fault_kiosk_cut(self) -> dict[str, Any]:
        assert self.kiosk_proxy is not None
        self.kiosk_proxy.cut()
        gevent.sleep(self.p["cut_s"])
        pending = self.kiosks[0].pending
        self.kiosk_proxy.restore()
        return {
            "cut_s": self.p["cut_s"],
            "queued_at_restore": pending,
            "back_from": [time.monotonic()],
        }

    def fault_parent_cut(self) -> dict[str, Any]:
        assert self.parent_proxy is not None
        before = {id(p): p.connects for p in self.cut_parents}
        self.parent_proxy.cut()
        gevent.sleep(self.p["parent_cut_s"])
        restored = time.monotonic()
        self.parent_proxy.restore()
        # Service is back for a parent when their phone has resumed on a new connection.
        deadline = restored + 120
        while time.monotonic() < deadline and any(
            not p.resumed_since(restored) for p in self.cut_parents
        ):
            gevent.sleep(0.2)
            self.refresh()
        back = [p.resumed_since(restored) for p in self.cut_parents]
        return {
            "parents_cut": len(self.cut_parents),
            "cut_parents_reconnected": sum(p.connects > before[id(p)] for p in self.cut_parents),
            "parents_back_s": round(max((b or deadline) for b in back) - restored, 1)
            if back
            else None,
        }

    def hold(self) -> dict[str, Any]:
        """`hold_sockets` parent sockets in all (a parent's phone and tablet share a login),
        held idle for `hold_s`: the servers' and nginx's memory per socket, their idle CPU."""
        assert self.world is not None
        gevent.sleep(2)
        workers, nginx = self.cluster.worker_pids(), self.cluster.nginx_pids()
        rss_before, nginx_before = rss_kib(workers), rss_kib(nginx)
        extra: list[ParentSim] = []
        wanted = max(0, self.p["hold_sockets"] - len(self.parents))
        began = time.monotonic()
        while len(extra) < wanted:
            batch = [
                ParentSim(p.user_id, self.cluster.url, p.cookie)
                for p in self.parents[: min(250, wanted - len(extra))]
            ]
            extra += batch
            try:
                wait_all([p.resumed for p in batch], 120, "held sockets resumed")
            except RuntimeError as error:
                errors: dict[str, int] = {}
                for parent in batch:
                    if not parent.resumed.is_set():
                        for name, count in parent.errors.items():
                            errors[name] = errors.get(name, 0) + count
                raise RuntimeError(f"{error} after {len(extra)} added; errors {errors}") from None
        connected_s = round(time.monotonic() - began, 1)
        gevent.sleep(5)
        sockets = len(self.parents) + len(self.kiosks) + len(extra)
        rss_after, nginx_after = rss_kib(workers), rss_kib(nginx)
        cpu_before, nginx_cpu_before = cpu_seconds(workers), cpu_seconds(nginx)
        held_from = time.monotonic()
        gevent.sleep(self.p["hold_s"])
        held = time.monotonic() - held_from
        cpu = cpu_seconds(workers) - cpu_before
        nginx_cpu = cpu_seconds(nginx) - nginx_cpu_before
        dropped = sum(p.connects > 1 for p in extra)
        for parent in extra:
            parent.close()
        return {
            "sockets": sockets,
            "added": len(extra),
            "connect_s": connected_s,
            "held_s": round(held, 1),
            "server_kb_per_socket": round((rss_after - rss_before) / max(1, len(extra)), 1),
            "nginx_kb_per_socket": round((nginx_after - nginx_before) / max(1, len(extra)), 1),
            "server_rss_mib": round(rss_after / 1024, 1),
            "idle_cpu_pct_of_core": round(100 * cpu / held, 1),
            "nginx_idle_cpu_pct_of_core": round(100 * nginx_cpu / held, 1),
            "dropped": dropped,
        }

    def drain(self, entries: list[Entry], stall: float = 60, limit: float = 1800) -> float:
        """Waits until every entry is answered and the outboxes are empty: a backlog (the 10x
        stream offers more than the servers take) drains as long as it moves. Gives up after
        `stall` seconds without one acknowledgement, or `limit` in all; the ledger then shows
        what was never acknowledged."""
        began = last_move = time.monotonic()
        answered = -1
        while time.monotonic() - last_move < stall and time.monotonic() - began < limit:
            # The outbox marks an entry synced just after the acknowledgement the harness times.
            now_answered = sum(e.status != "saved" for e in entries)
            if now_answered == len(entries) and not any(k.pending for k in self.kiosks):
                break
            if now_answered != answered:
                answered, last_move = now_answered, time.monotonic()
            gevent.sleep(0.5)
        return round(time.monotonic() - began, 1)

    # -- the ledger ----------------------------------------------------------------------------

    def ledger(self, entries: list[Entry], wait: float = 20) -> dict[str, Any]:
        assert self.world is not None
        keys = {e.key for e in entries}
        timing = {e.key: e for e in entries}
        # "Acknowledged" is what the kiosks' outboxes say (an acknowledgement came back after
        # the server's commit); the harness's own timing record must agree with it.
        in_outbox = {
            e.key: e for k in self.kiosks for e in k.outbox.entries(limit=10**9) if e.key in keys
        }
        # Synced, or further: delivered (a repeated entry's "duplicate" answer says the parents
        # have it already, and the outbox records that at once).
        synced = {key for key, e in in_outbox.items() if e.state in (State.SYNCED, State.DELIVERED)}
        acked = [e for e in entries if e.status == "acked"]
        disagree = sorted({e.key for e in acked} ^ synced)
        with self.engine.connect() as conn:
            stored = {
                k.lower()
                for chunk in _chunks(sorted(keys), 500)
                for k in conn.scalars(
                    select(ProcessedSubmission.key).where(ProcessedSubmission.key.in_(chunk))
                )
            }
            texts = [e.marker for e in entries if e.kind == "remark"]
            duplicated = sum(
                n - 1
                for chunk in _chunks(texts, 500)
                for n in conn.scalars(
                    select(func.count()).where(Remark.text.in_(chunk)).group_by(Remark.text)
                )
            )
            event_ids = sorted({i for e in acked for i in e.event_ids})
            audience = {
                eid: (kind, aid)
                for chunk in _chunks(event_ids, 500)
                for eid, kind, aid in conn.execute(
                    select(JournalEvent.id, JournalEvent.audience, JournalEvent.audience_id).where(
                        JournalEvent.id.in_(chunk)
                    )
                )
            }
        expected = {
            (eid, parent)
            for eid, (kind, aid) in audience.items()
            if kind == "pupil"
            for parent in self.world.guardians.get(aid, [])
        }
        ids = set(event_ids)

        def received() -> set[tuple[int, int]]:
            self.refresh()
            return {(eid, p.user_id) for p in self.parents for eid in p.received if eid in ids}

        deadline = time.monotonic() + wait
        while not expected <= received() and time.monotonic() < deadline:
            gevent.sleep(0.2)
        got = received()
        sent_at = {i: e.first_sent for e in acked for i in e.event_ids}
        push = [
            (p.received[eid] - (sent_at[eid] or 0)) * 1000
            for p in self.parents
            for eid in p.received
            if eid in ids and sent_at.get(eid)
        ]
        acks = [(e.acked - e.first_sent) * 1000 for e in acked if e.acked and e.first_sent]
        result = {
            "submitted": len(entries),
            "acknowledged": len(synced),
            "stored": len(stored & {k.lower() for k in keys}),
            "lost": len({k.lower() for k in keys} - stored),
            "duplicated": duplicated,
            "expected_deliveries": len(expected),
            "delivered": len(got & expected),
            "foreign": len(got - expected),
            "false_acks": len({e.key.lower() for e in acked} - stored),
            "parked": sum(e.status == "parked" for e in entries),
        }
        delivered_at = [p.received[eid] for p in self.parents for eid in p.received if eid in ids]
        figures = {
            "kiosk_ack_ms": {
                "p50": percentile(acks, 50),
                "p99": percentile(acks, 99),
                "max": round(max(acks), 1) if acks else None,
            },
            "write_to_parent_ms": {"p50": percentile(push, 50), "p99": percentile(push, 99)},
            "duplicate_acks": sum(e.ack_status == "duplicate" for e in acked),
            "retried_entries": sum(e.attempts > 1 for e in entries),
            # The harness's record against the outboxes' (which the ledger counts): the same.
            "outbox_disagrees": len(disagree),
            "disagreement_sample": [
                {
                    "harness": timing[key].status,
                    "outbox": in_outbox[key].state.value if key in in_outbox else None,
                    "attempts": timing[key].attempts,
                    "refusal": timing[key].refusal,
                    "last_error": in_outbox[key].last_error if key in in_outbox else None,
                }
                for key in disagree[:5]
            ],
        }
        if entries and acked:
            first = min(e.first_sent or math.inf for e in entries)
            last_ack = max(e.acked or 0 for e in acked)
            figures["committed_s"] = round(last_ack - first, 2)
            figures["pushed_s"] = round(max(delivered_at, default=first) - first, 2)
            span = max(last_ack, max(delivered_at, default=last_ack)) - first
            figures["entries_per_s"] = round(len(acked) / span, 1) if span > 0 else None
            figures["deliveries_per_s"] = round(len(got) / span, 1) if span > 0 else None
        return {"ledger": result, **figures}

    def back_after(self, entries: list[Entry], moments: list[float]) -> float | None:
        """Service back: after each moment a fault ended, the longest any kiosk waited for its
        first acknowledgement (counted from the moment, or from the entry's making when the
        teacher entered nothing for a while)."""
        worst = None
        for moment in moments:
            for kiosk in self.kiosks:
                mine = kiosk.timing
                after = [e for e in entries if e.key in mine and (e.acked or 0) > moment]
                if after:
                    first = min(after, key=lambda e: e.acked or 0)
                    wait = (first.acked or 0) - max(moment, first.created)
                    worst = wait if worst is None else max(worst, wait)
        return round(worst, 1) if worst is not None else None

    def run(self) -> bool:
        ok = True
        p = self.p
        phases: dict[str, Any] = {
            "lesson_start": lambda: (self.rolls(p["spread"]), {}),
            "herd": lambda: (self.rolls(0.0), {}),
            "tenfold": lambda: self.stream(
                rate=p["tenfold_rate"] / len(self.kiosks), seconds=p["tenfold_s"]
            ),
            "kill9": lambda: self.stream(self.fault_kill9),
            "pg_restart": lambda: self.stream(self.fault_pg_restart),
            "redis_stop": lambda: self.stream(self.fault_redis_stop),
            "kiosk_cut": lambda: self.stream(
                self.fault_kiosk_cut, seconds=max(p["stream_s"], p["cut_s"] + 2 * p["lead_s"])
            ),
            "parent_cut": lambda: self.stream(self.fault_parent_cut),
        }
        for phase in self.args.phases:
            began = time.monotonic()
            if phase == "hold":
                self.results[phase] = self.hold()
                print(f"  {phase}: {json.dumps(self.results[phase])}", flush=True)
                continue
            kiosk_connects = sum(k.connects for k in self.kiosks)
            self.refresh()
            parent_connects = sum(p.connects for p in self.parents)
            cpu_before = self.cluster.cpu_by_kind()
            entries, info = phases[phase]()
            drained = self.drain(entries)
            cpu = cpu_use(cpu_before, self.cluster.cpu_by_kind(), time.monotonic() - began)
            result = self.ledger(entries)
            back_from = info.pop("back_from", None)
            result.update(info, drain_s=drained, phase_s=round(time.monotonic() - began, 1))
            if back_from:
                result["back_s"] = self.back_after(entries, back_from)
            acked = result["ledger"]["acknowledged"]
            server_cpu = [v for k, v in cpu["cpu_s"].items() if k in ("people", "kiosks", "all")]
            per_entry = None
            if acked and None not in server_cpu:
                per_entry = round(1000 * sum(server_cpu) / acked, 1)
            result.update(cpu, server_cpu_ms_per_entry=per_entry)
            # Proof that the fault hit the clients: how many connections had to be made again.
            result["kiosk_reconnects"] = sum(k.connects for k in self.kiosks) - kiosk_connects
            result["parent_reconnects"] = sum(p.connects for p in self.parents) - parent_connects
            if "db_down" in info:
                windows = result.pop("db_down")
                result["acks_while_db_down"] = sum(
                    1
                    for e in entries
                    for start, end in windows
                    # Sent after PostgreSQL was gone and answered "ok" before it was back:
                    # nothing can have committed it.
                    if e.acked is not None and e.last_sent and start < e.last_sent < e.acked < end
                )
            problems = check(result["ledger"])
            if result.get("acks_while_db_down"):
                problems.append("acknowledged while the database was down")
            if result["outbox_disagrees"]:
                problems.append("the harness's record and the outboxes disagree")
            if result.get("form_logins_while_down", "3/3") != "3/3":
                problems.append("the login form failed while Redis was down")
            result["problems"] = problems
            ok = ok and not problems
            self.results[phase] = result
            print(f"  {phase}: {json.dumps(result)}", flush=True)
        self.results["_foreign_all"] = self.foreign_all()
        if self.results["_foreign_all"]:
            ok = False
        return ok

    def foreign_all(self) -> int:
        """Every event any parent received, whatever its source, checked against their pupils."""
        assert self.world is not None
        self.refresh()
        everything = sorted({eid for p in self.parents for eid in p.received})
        with self.engine.connect() as conn:
            audience = {
                eid: (kind, aid)
                for chunk in _chunks(everything, 500)
                for eid, kind, aid in conn.execute(
                    select(JournalEvent.id, JournalEvent.audience, JournalEvent.audience_id).where(
                        JournalEvent.id.in_(chunk)
                    )
                )
            }
        rooms = self.world.pupil_rooms
        return sum(
            1
            for p in self.parents
            for eid in p.received
            if audience.get(eid, ("?", 0))[0] != "pupil"
            or f"pupil:{audience[eid][1]}" not in rooms.get(p.user_id, [])
        )

    def refresh(self) -> None:
        """The parents' state from their processes, as of now."""
        if self.crowd is not None:
            self.crowd.refresh()

    def close(self) -> None:
        for kiosk in self.kiosks:
            with contextlib.suppress(Exception):  # tearing down whatever is left
                kiosk.close()
        if self.crowd is not None:
            self.crowd.close()
        for proxy in (self.kiosk_proxy, self.parent_proxy):
            if proxy is not None:
                proxy.close()
        shutil.rmtree(self.outboxes, ignore_errors=True)
        if self.engine is not None:
            self.engine.dispose()
        self.cluster.close()
        if self.args.keep:
            print(f"  kept {self.cluster.tmp}")
        else:
            self.cluster.remove()


def wait_all(events: list[gevent.event.Event], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    for event in events:
        event.wait(max(0.1, deadline - time.monotonic()))
    done = sum(e.is_set() for e in events)
    if done < len(events):
        raise RuntimeError(f"only {done}/{len(events)} {what} within {timeout:.0f} s")


def check(ledger: dict[str, int]) -> list[str]:
    problems = []
    if ledger["acknowledged"] != ledger["submitted"]:
        problems.append("not every submission was acknowledged")
    if ledger["stored"] != ledger["submitted"]:
        problems.append("stored != submitted")
    for name in ("lost", "duplicated", "foreign", "false_acks", "parked"):
        if ledger[name]:
            problems.append(f"{name} = {ledger[name]}")
    if ledger["delivered"] != ledger["expected_deliveries"]:
        problems.append("delivered != expected_deliveries")
    return problems


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[n : n + size] for n in range(0, len(items), size)] or [[]]


def markdown(results: dict[str, Any], profile: str) -> str:
    def pair(figure: dict[str, Any] | None) -> str:
        return f"{figure['p50']}/{figure['p99']}" if figure else "-"

    lines = [
        f"District simulation, profile `{profile}` (ms: p50/p99; s: from the first submission)",
        "",
        "| phase | submitted | acked | stored | lost | dup | expected | delivered | foreign "
        "| false acks | ack ms | push ms | x bare p99 | committed s | pushed s | entries/s "
        "| deliveries/s | back s |",
        "|" + "---|" * 18,
    ]
    for phase, r in results.items():
        if phase.startswith("_") or "ledger" not in r:
            continue
        led = r["ledger"]
        lines.append(
            f"| {phase} | {led['submitted']} | {led['acknowledged']} | {led['stored']} "
            f"| {led['lost']} | {led['duplicated']} | {led['expected_deliveries']} "
            f"| {led['delivered']} | {led['foreign']} | {led['false_acks']} "
            f"| {pair(r['kiosk_ack_ms'])} | {pair(r['write_to_parent_ms'])} "
            f"| {r.get('baseline_ratio_p99') or '-'} | {r.get('committed_s', '-')} "
            f"| {r.get('pushed_s', '-')} | {r.get('entries_per_s', '-')} "
            f"| {r.get('deliveries_per_s', '-')} "
            f"| {r.get('back_s', r.get('parents_back_s', '-'))} |"
        )
    if "hold" in results:
        h = results["hold"]
        lines += [
            "",
            f"hold: {h['sockets']} sockets for {h['held_s']} s; per added socket "
            f"{h['server_kb_per_socket']} KB in the servers (bare relay: "
            f"{h.get('baseline_kb_per_socket') or '-'}), {h['nginx_kb_per_socket']} KB in nginx; "
            f"idle CPU {h['idle_cpu_pct_of_core']} % of a core (nginx "
            f"{h['nginx_idle_cpu_pct_of_core']} %); dropped {h['dropped']}",
        ]
    return "\n".join(lines) + "\n"


def merge_into(latest: Path, results: dict[str, Any], profile: str) -> None:
    """Adds the district's scenarios to the realtime benchmark's bench/out/latest.json (the
    first half of the same `make bench`), each as `district_<phase>` with its `ledger`, and
    divides our write-to-parent p99 and memory per socket by the bare Socket.IO relay's
    measured there (bench/bare_app.py, 2 processes, same machine, same run)."""
    out: dict[str, Any] = json.loads(latest.read_text()) if latest.exists() else {}
    bare = {
        name: (out.get(f"{name}_2proc") or out.get(name) or {}).get("baseline_write_to_parent_ms")
        for name in ("lesson_start", "herd")
    }
    bare_kb = (out.get("lesson_start_2proc") or {}).get("baseline_rss_kb_per_connection")
    for phase, result in results.items():
        if phase.startswith("_"):
            continue
        base = bare.get(phase)  # a fault phase has no bare counterpart to divide by
        ours = (result.get("write_to_parent_ms") or {}).get("p99")
        if base and base.get("p99") and ours:
            result["baseline_write_to_parent_ms"] = base
            result["baseline_ratio_p99"] = round(ours / base["p99"], 2)
        if phase == "hold" and bare_kb:
            result["baseline_kb_per_socket"] = bare_kb
            result["baseline_ratio_kb"] = round(result["server_kb_per_socket"] / bare_kb, 2)
        out[f"district_{phase}"] = {**result, "profile": profile}
    latest.parent.mkdir(parents=True, exist_ok=True)
    latest.write_text(json.dumps(out, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    parser.add_argument("--phases", help="default: the profile's, or all of them")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "district.json"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument(
        "--merge-into",
        type=Path,
        help="add the scenarios to this latest.json (make bench: the realtime benchmark's)",
    )
    parser.add_argument(
        "--kiosk-processes",
        type=int,
        help="kiosks in this many processes of their own (the production layout); 0: every "
        "process serves everyone (default: the profile's, else 0)",
    )
    parser.add_argument(
        "--parent-processes",
        type=int,
        help="the harness's processes for the parents (default: the profile's)",
    )
    for name in ("kiosks", "parents"):
        parser.add_argument(f"--{name}", type=int, help=f"fewer (or more) {name} than the profile")
    parser.add_argument("--spread", type=float, help="the lesson start's window, s")
    args = parser.parse_args()
    profile = {"kiosk_processes": 0, **PROFILES[args.profile]}
    for name in ("kiosk_processes", "parent_processes", "kiosks", "parents", "spread"):
        if getattr(args, name) is not None:
            profile[name] = getattr(args, name)
    phases = profile.pop("phases", ",".join(PHASES))
    args.phases = [p for p in (args.phases or phases).split(",") if p]
    print(f"district: profile {args.profile}: {json.dumps(profile)}", flush=True)
    # 10,000 held sockets, the proxies' pairs and the servers' own (they inherit the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    harness = Harness(args, profile)
    # A handler runs in gevent's hub: raise in the main greenlet, so `finally` stops everything.
    gevent.signal_handler(signal.SIGTERM, gevent.get_hub().parent.throw, SystemExit(143))
    began = time.monotonic()
    ok = False
    try:
        harness.setup()
        ok = harness.run()
    except MissingTool as missing:
        raise SystemExit(f"district: {missing}") from None
    finally:
        harness.close()
        # Also when a phase failed: the phases before it keep their figures.
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(
            json.dumps({"profile": args.profile, "ok": ok, "phases": harness.results}, indent=2)
        )
    if args.merge_into:
        merge_into(args.merge_into, harness.results, args.profile)
    out = {
        "profile": args.profile,
        "settings": profile,
        "ok": ok,
        "total_s": round(time.monotonic() - began, 1),
        "phases": harness.results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    table = markdown(harness.results, args.profile)
    Path(args.out).with_suffix(".md").write_text(table)
    print(table)
    print(f"written {args.out}; ledger {'OK' if ok else 'MISMATCH'} in {out['total_s']} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
