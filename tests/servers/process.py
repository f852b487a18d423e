"""A child process the harness owns, and the port and /proc helpers around it.

Every program the tests and the benchmarks start and keep running (gunicorn, redis-server, nginx,
a kiosk agent, `ediary demo`) is a `Process`: its command, environment and log, started and waited
for on its port, stopped with SIGTERM and then SIGKILL, killed with SIGKILL on purpose, restarted.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

ROOT = Path(__file__).resolve().parents[2]
# Where Debian installs the programs the harness starts, when the PATH lacks them.
_SBIN = "/usr/sbin:/sbin"


class MissingTool(RuntimeError):
    """A program the tests or benchmarks start is not installed."""


def tool(name: str, package: str | None = None) -> str:
    """The path of an installed program; `MissingTool` names its Debian package if it is not."""
    found = shutil.which(name) or shutil.which(name, path=_SBIN)
    if found is None:
        raise MissingTool(f"{name} is not installed (Debian package {package or name})")
    return found


_handed_out: set[int] = set()


def free_port() -> int:
    """A port free now that this process has not handed out before. The kernel may offer a
    port again as soon as the socket that found it is closed: in one city drill two of the
    cluster's servers, asked for their ports one after the other, got the same one, and the
    kiosks' process never started (its port was the people's)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_for_port(
    port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Until something accepts on 127.0.0.1:`port`; fails early when `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (from /proc): a gunicorn master's workers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(entry.name))
    return pids


def alive(pids: Sequence[int]) -> list[int]:
    """Those of `pids` still running (a zombie waiting for its reaper counts as ended)."""
    running = []
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] != "Z":
                running.append(pid)
    return running


def rss_kib(pids: Sequence[int]) -> int:
    """The resident memory of the processes, in KiB (a process gone meanwhile counts 0)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of the processes so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


# Every process started here and not stopped yet. At the interpreter's exit they are stopped too:
# a test that failed before its own clean-up, or a benchmark that crashed, would otherwise leave
# a server behind (a gunicorn master orphaned to init, holding its port for good).
_RUNNING: set[Process] = set()


@atexit.register
def _stop_leftovers() -> None:
    for process in list(_RUNNING):
        process.stop()


class Started:
    """What a `with` block starts (unless it was started already: `with start_or_skip(...)`)
    and stops at its end, also when the block fails."""

    @property
    def started(self) -> bool:
        raise NotImplementedError

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self if self.started else self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class Process(Started):
    """One child process: `command` run in `cwd` with os.environ plus `env`, its output (stdout
    and stderr) appended to `log` (or dropped), listening on `port` once started, if it has one.

    `start()` is `spawn()` then `wait_ready()`; a group of servers spawns all of them first and
    then waits, so that they start side by side.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        log: Path | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        cwd: Path = ROOT,
        start_timeout: float = 60.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.command = list(command)
        self.log = log
        self.env = dict(env or {})
        self.port = port
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.popen: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        out: IO[bytes] | int = self.log.open("ab") if self.log else subprocess.DEVNULL
        try:
            self.popen = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            _RUNNING.add(self)
        finally:
            if not isinstance(out, int):
                out.close()

    def wait_ready(self) -> None:
        """Until the process serves (its port accepts, and `ready()`); stopped if it never does."""
        try:
            if self.port is not None:
                try:
                    wait_for_port(self.port, self.start_timeout, self.popen)
                except RuntimeError as exited:
                    raise RuntimeError(f"{self.command[0]}: {exited}\n{self.tail()}") from None
            self.ready()
        except BaseException:
            self.stop()
            raise

    def ready(self) -> None:
        """More than an open port, for a server that needs it (Redis answering PING)."""

    def start(self) -> Self:
        self.spawn()
        self.wait_ready()
        return self

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not ended within `stop_timeout`; then SIGKILL to any
        child it left behind (a gunicorn master killed before its worker finished stopping, on
        a loaded machine, orphans the worker)."""
        _RUNNING.discard(self)
        if self.popen is None or self.popen.poll() is not None:
            return
        left = self.children()  # once the leader is gone its children are orphans: find them now
        self.popen.terminate()
        try:
            self.popen.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
        for pid in alive(left):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while alive(left) and time.monotonic() < deadline:
            time.sleep(0.05)

    def kill(self) -> None:
        """kill -9: no chance to flush or say goodbye."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)

    def restart(self) -> Self:
        self.stop()
        return self.start()

    @property
    def started(self) -> bool:
        return self.popen is not None

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int:
        assert self.popen is not None, "not started"
        return self.popen.pid

    def children(self) -> list[int]:
        return children(self.pid) if self.running else []

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def tail(self, characters: int = 3000) -> str:
        return self.logs()[-characters:]
