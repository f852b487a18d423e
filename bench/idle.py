"""`python -m bench.idle`: what idle parents' sockets cost one server process (issue 19 item 4).

    python -m bench.idle --sockets 10000 --idle 60     # the issue's figure
    python -m bench.idle --sockets 1000 --idle 30      # a quick look

Starts, all of it throwaway (tests/servers/): a PostgreSQL cluster of its own seeded with
`--parents` parent accounts (bench/world.py), a private Redis, and ONE people's server process
(EDIARY_SOCKETS=people, where parents' sockets go in production; `--env EDIARY_SOCKETS=all` for
a process that serves kiosks too) with the production settings (provisioning/gunicorn.conf.py:
gunicorn/gevent, the relay started with the worker, its garbage-collection tuning). Every
parent logs in through the login form. Then `--clients` client processes open `--sockets`
sockets on /live between them, each with one of the parents' cookies (a parent's phone and
tablet share a login), the way static/js/live.js does: a WebSocket (offering per-message
compression, as browsers do), the namespace's connect, `resume` from "now" (`last_id` null),
and from then on only the answers to Engine.IO's pings. The client speaks the frames by hand
(as tests/realtime/raw.py does) so that 10,000 of them fit beside the server on two cores.

Prints, for the server's worker process only (its CPU and memory, not the clients'):
- KB per socket: its VmRSS (and Pss, smaps_rollup) with the sockets open and settled, minus the
  same before they were opened (after a warm-up batch that was opened and closed), / sockets;
- idle CPU: its utime + stime over `--idle` seconds with nothing but the sockets, as % of one
  core; with the machine's load (`uptime`) beside it, since other work shares the cores.
Figures only: nothing is asserted. A socket that dropped during the window is counted.
"""

from gevent import monkey

monkey.patch_all()

# ruff: noqa: E402 - the imports must come after monkey-patching
import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
import websocket

from bench.district.actors import http_login
from bench.world import PASSWORD, build
from tests.servers import PostgresCluster, RedisServer, Server, ServerConfig, cpu_seconds

SECRET = "idle-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway server


# -- the client processes -----------------------------------------------------------------------


class IdleSocket:
    """One parent's /live socket: connected, resumed from now, then answering pings only."""

    def __init__(self, url: str, cookie: str) -> None:
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        # Offered as every browser does; this client cannot inflate, so a server that accepted
        # it would fail the socket here (ediary.realtime.SocketPaths withdraws the offer, and
        # ediary.realtime.websocket never accepts it).
        offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
        self.ws = websocket.create_connection(
            ws_url, header=[f"Cookie: {cookie}", offer], origin=url, timeout=60
        )
        self.closed = False
        self.pings = 0
        opening = self.ws.recv()
        if not (isinstance(opening, str) and opening.startswith("0")):
            raise RuntimeError(f"no Engine.IO opening: {opening!r}")
        self.ws.send("40/live,")
        answer = self._next_packet()
        if not answer.startswith("40/live,"):
            raise RuntimeError(f"connect refused: {answer[:120]}")
        self.ws.send('42/live,1["resume",{"last_id":null}]')
        ack = self._next_packet()
        if not ack.startswith("43/live,1") or '"ok":true' not in ack.replace(" ", ""):
            raise RuntimeError(f"resume refused: {ack[:120]}")
        self.ws.settimeout(None)

    def _next_packet(self) -> str:
        """The next Socket.IO packet, answering pings meanwhile."""
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
            elif isinstance(frame, str) and frame.startswith("4"):
                return frame

    def hold(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = self.ws.recv()
                if frame == "2":
                    self.pings += 1
                    self.ws.send("3")
                elif frame == "" or frame is None:
                    break
        self.closed = True


def client(url: str, cookies: list[str], count: int, concurrency: int) -> None:
    """Opens `count` sockets (cookies in turn), prints `ready <opened> <failed>`, holds them
    until SIGTERM, then prints `dropped <n> <pings>`: closed by the server meanwhile, and the
    pings they received."""
    sockets: list[IdleSocket] = []
    failures: dict[str, int] = {}

    def open_one(n: int) -> None:
        for _attempt in range(3):
            try:
                sock = IdleSocket(url, cookies[n % len(cookies)])
            except Exception as error:
                what = f"{type(error).__name__}: {str(error)[:60]}"
                failures[what] = failures.get(what, 0) + 1
                gevent.sleep(1)
                continue
            sockets.append(sock)
            gevent.spawn(sock.hold)
            return

    gevent.pool.Pool(concurrency).map(open_one, range(count))
    print(f"ready {len(sockets)} {json.dumps(failures)}", flush=True)
    done = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, done.set)
    done.wait()
    print(f"dropped {sum(s.closed for s in sockets)} {sum(s.pings for s in sockets)}", flush=True)
    os._exit(0)  # closing 2,500 sockets one by one would only add noise to the server's CPU


# -- the measuring process ------------------------------------------------------------------------


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, Pss) of a process in KiB."""
    rss = pss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


def system_seconds(pid: int) -> float:
    """The CPU time a process spent in the kernel (stime: its sockets' TCP on loopback)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


def uptime_load() -> str:
    """The load averages over 1, 5 and 15 minutes, as `uptime` says them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Clients:
    """`processes` client processes sharing `sockets` sockets."""

    def __init__(self, url: str, cookies: list[str], sockets: int, processes: int) -> None:
        self.popens: list[subprocess.Popen[str]] = []
        share = [sockets // processes + (n < sockets % processes) for n in range(processes)]
        for n, count in enumerate(share):
            if count == 0:
                continue
            spec = {"url": url, "cookies": cookies[n::processes] or cookies, "count": count}
            popen = subprocess.Popen(
                [sys.executable, "-m", "bench.idle", "--client"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert popen.stdin is not None
            popen.stdin.write(json.dumps(spec) + "\n")
            popen.stdin.close()
            self.popens.append(popen)

    def ready(self) -> tuple[int, dict[str, int]]:
        opened = 0
        failures: dict[str, int] = {}
        for popen in self.popens:
            assert popen.stdout is not None
            line = popen.stdout.readline().split(" ", 2)
            if line[0] != "ready":
                raise RuntimeError(f"a client process ended before its sockets were open: {line}")
            opened += int(line[1])
            for what, count in json.loads(line[2]).items():
                failures[what] = failures.get(what, 0) + count
        return opened, failures

    def close(self) -> tuple[int, int]:
        """Stops them; how many sockets had been dropped by the server, how many pings came."""
        dropped = pings = 0
        for popen in self.popens:
            with contextlib.suppress(ProcessLookupError):
                popen.send_signal(signal.SIGTERM)
        for popen in self.popens:
            assert popen.stdout is not None
            with contextlib.suppress(Exception):
                line = popen.stdout.readline().split()
                if line and line[0] == "dropped":
                    dropped += int(line[1])
                    pings += int(line[2])
            try:
                popen.wait(30)
            except subprocess.TimeoutExpired:
                popen.kill()
        return dropped, pings


def measure(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="ediary-idle-"))
    pg = PostgresCluster(tmp)
    redis = server = None
    try:
        began = time.monotonic()
        pg.init()
        world = build(pg.url, kiosks=max(1, args.parents // 25), parents=args.parents)
        redis = RedisServer(tmp).start()
        config = ServerConfig(
            pg.url,
            provisioned=True,
            env={
                "EDIARY_SECRET_KEY": SECRET,
                "EDIARY_RATELIMIT_STORAGE_URI": redis.url.replace("/0", "/1"),
                "EDIARY_LOG_LEVEL": "warning",
                # Parents' sockets go to the people's processes (provisioning/README.md).
                "EDIARY_SOCKETS": "people",
                **dict(item.split("=", 1) for item in args.env),
            },
            app=args.app,
            name="idle",
        )
        server = Server(config, tmp, redis_url=redis.url).start()
        worker = server.worker_pid()

        def log_in(n: int) -> str:
            return http_login(server.url, f"parent{n:04d}", PASSWORD)

        cookies = list(gevent.pool.Pool(20).imap(log_in, range(len(world.parents))))
        up_s = time.monotonic() - began
        print(f"  server and {len(cookies)} logins up in {up_s:.0f} s", flush=True)

        # A warm-up batch, opened and closed: what the first sockets import and cache is not a
        # per-socket cost.
        warm = Clients(server.url, cookies, min(200, args.sockets), 1)
        warm.ready()
        warm.close()
        time.sleep(args.settle)
        rss_before, pss_before = memory_kib(worker)

        clients = Clients(server.url, cookies, args.sockets, args.clients)
        opening = time.monotonic()
        opened, failures = clients.ready()
        connect_s = time.monotonic() - opening
        time.sleep(args.settle)
        rss_after, pss_after = memory_kib(worker)
        load_before = uptime_load()
        cpu_before = cpu_seconds([worker])
        system_before = system_seconds(worker)
        idle_from = time.monotonic()
        time.sleep(args.idle)
        idle_s = time.monotonic() - idle_from
        cpu = cpu_seconds([worker]) - cpu_before
        system = system_seconds(worker) - system_before
        load_after = uptime_load()
        rss_held, _pss_held = memory_kib(worker)
        if args.pause:
            print(f"  worker {worker} kept with its sockets for {args.pause:.0f} s", flush=True)
            time.sleep(args.pause)
        dropped, pings = clients.close()
        return {
            "sockets": opened,
            "failures": failures,
            "connect_s": round(connect_s, 1),
            "idle_s": round(idle_s, 1),
            "server_rss_mib": round(rss_after / 1024, 1),
            "rss_kb_per_socket": round((rss_after - rss_before) / max(1, opened), 1),
            "pss_kb_per_socket": round((pss_after - pss_before) / max(1, opened), 1),
            "rss_kb_per_socket_end_of_idle": round((rss_held - rss_before) / max(1, opened), 1),
            "idle_cpu_pct_of_core": round(100 * cpu / idle_s, 2),
            "idle_cpu_system_share": round(system / max(cpu, 1e-9), 2),  # the kernel's (stime)
            "idle_cpu_ms_per_socket_minute": round(1000 * cpu / max(1, opened) * 60 / idle_s, 3),
            "dropped": dropped,
            "pings_per_socket": round(pings / max(1, opened), 1),  # from its opening on
            "load_before": load_before,
            "load_after": load_after,
        }
    finally:
        for process in (server, redis):
            if process is not None:
                with contextlib.suppress(Exception):
                    process.stop()
        pg.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=10000)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of the idle window")
    parser.add_argument("--parents", type=int, default=1000, help="logins the sockets share")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument(
        "--env", action="append", default=[], help="EDIARY_X=value for the server (repeatable)"
    )
    parser.add_argument("--app", default="ediary.wsgi:app", help="the WSGI app the server runs")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds to keep it all up afterwards (py-spy)"
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        spec = json.loads(sys.stdin.readline())
        client(spec["url"], spec["cookies"], spec["count"], concurrency=25)
        return 0
    # Stopped from outside: through `measure`'s clean-up, not leaving its servers behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = measure(args)
    print(json.dumps(result, indent=2))
    print(
        f"idle: {result['sockets']} sockets, {result['rss_kb_per_socket']} KB each (RSS; Pss "
        f"{result['pss_kb_per_socket']}), {result['idle_cpu_pct_of_core']} % of a core over "
        f"{result['idle_s']} s; load {result['load_before']} -> {result['load_after']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
