"""The drill's parents, in processes of their own.

At the city's size one harness process held 1,000 kiosks and 3,000 parents, and after a kill -9
the kiosks' reconnections waited there behind the parents' TLS handshakes and logins: the
harness, not the servers, decided how long the kiosks took to come back (bench/README.md, "A city
on this machine"). So the parents (actors.ParentSim) run in `processes` child processes
(`python -m bench.district.crowd`), each a gevent process with its own share of the parents and
its own network of source addresses (sources.py), and the harness keeps the kiosks. It asks the
children for their parents' state (what each received and when, connections, resumes, errors)
whenever it reads it: `Crowd.refresh()`. Their moments compare with the harness's:
`time.monotonic()` is the system's CLOCK_MONOTONIC in every process.

The protocol on a child's stdin and stdout, one JSON line each: first the parents and where to
connect from; then "state" (answered with one line, every parent's state) or "close".
"""

from gevent import monkey

monkey.patch_all()  # in a crowd process, before anything opens a socket (the harness's: done)

# ruff: noqa: E402 - the imports must come after monkey-patching
import contextlib
import json
import subprocess
import sys
import time

import gevent

from bench.district.actors import ParentSim, first_after
from bench.district.sources import spread_sources
from tests.servers import ROOT


class RemoteParent:
    """A parent of a crowd process, as the harness reads an actors.ParentSim: as of the last
    `Crowd.refresh()`."""

    def __init__(self, user_id: int, url: str, cookie: str) -> None:
        self.user_id = user_id
        self.url = url
        self.cookie = cookie
        self.received: dict[int, float] = {}  # event id -> when it was applied
        self.connects = 0
        self.resumes: list[float] = []
        self.errors: dict[str, int] = {}
        self.reoffered = 0

    def resumed_since(self, moment: float) -> float | None:
        return first_after(self.resumes, moment)


class Crowd:
    """The parents, spread round-robin over `processes` child processes."""

    def __init__(self, parents: list[tuple[int, str, str]], processes: int, ports: list[int]):
        self.parents = [RemoteParent(*parent) for parent in parents]
        self.by_id = {parent.user_id: parent for parent in self.parents}
        self.popens: list[subprocess.Popen[str]] = []
        for k in range(processes):
            popen = subprocess.Popen(
                [sys.executable, "-m", "bench.district.crowd"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            # Network 1 is the harness's own (its kiosks and logins).
            setup = {"parents": parents[k::processes], "ports": ports, "network": 2 + k}
            self._say(popen, json.dumps(setup))
            self.popens.append(popen)

    @staticmethod
    def _say(popen: subprocess.Popen[str], line: str) -> None:
        assert popen.stdin is not None
        popen.stdin.write(line + "\n")
        popen.stdin.flush()

    def refresh(self) -> None:
        for popen in self.popens:
            self._say(popen, "state")
        for popen in self.popens:
            assert popen.stdout is not None
            line = popen.stdout.readline()
            if not line:
                raise RuntimeError(f"a crowd process ended (exit {popen.poll()})")
            for user_id, received, connects, resumes, errors, reoffered in json.loads(line):
                parent = self.by_id[user_id]
                parent.received = {event_id: moment for event_id, moment in received}
                parent.connects = connects
                parent.resumes = resumes
                parent.errors = errors
                parent.reoffered = reoffered

    def wait_resumed(self, timeout: float) -> None:
        """Until every parent has resumed once; RuntimeError with their errors after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            self.refresh()
            waiting = [p for p in self.parents if not p.resumes]
            if not waiting:
                return
            if time.monotonic() > deadline:
                errors: dict[str, int] = {}
                for parent in waiting:
                    for name, count in parent.errors.items():
                        errors[name] = errors.get(name, 0) + count
                raise RuntimeError(f"{len(waiting)} parents not resumed; errors {errors}")
            gevent.sleep(1)

    def close(self) -> None:
        for popen in self.popens:
            with contextlib.suppress(OSError):  # a child that ended already
                self._say(popen, "close")
        for popen in self.popens:
            try:
                popen.wait(30)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()


def serve() -> int:
    """A crowd process: its parents connect, and it answers "state" until "close"."""
    setup = json.loads(sys.stdin.readline())
    spread_sources(setup["ports"], setup["network"])
    parents = [ParentSim(user_id, url, cookie) for user_id, url, cookie in setup["parents"]]
    # The pipes are read and written in gevent's thread pool: the parents' sockets keep being
    # served while the harness is slow to ask or to read.
    pool = gevent.get_hub().threadpool
    while True:
        command = pool.apply(sys.stdin.readline).strip()
        if command == "state":
            state = [
                [
                    p.user_id,
                    list(p.received.items()),
                    p.connects,
                    p.resumes,
                    p.errors,
                    p.reoffered,
                ]
                for p in parents
            ]
            pool.apply(_write_line, (json.dumps(state),))
        else:  # "close", or the harness is gone (end of input)
            for parent in parents:
                with contextlib.suppress(Exception):  # tearing down whatever is left
                    parent.close()
            return 0


def _write_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(serve())
