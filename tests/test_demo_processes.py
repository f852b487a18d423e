"""Ctrl+C stops everything `ediary demo` started; a port in use is one line before anything starts.

`ediary demo` runs as a real process, as `make demo` runs it, on a small demo district: the
server (gunicorn) and the demo kiosk (its launcher, then the agent) come up on their ports. Then
SIGINT goes to its process group, as a terminal sends Ctrl+C, once with SIGINT inherited as
ignored (as a shell leaves it for a background job; the kiosk once stayed alive like that) and
once as default; or SIGTERM goes to it alone. Every process of its session must be gone, both
ports free, and no traceback printed.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ediary.cli.supervisor import port_in_use
from tests.servers import free_port, wait_for_port
from tests.test_demo_seed import CHEAP_HASHING, ROOT, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("demo-processes") / "demo.db"
    url = f"sqlite:///{path}"
    result = run_cli("seed-demo", "--database-url", url, "--scale", "0.1", "--weeks", "0")
    assert result.returncode == 0, result.stderr
    return url


def demo_command(url: str, port: int, kiosk_port: int, state_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "ediary.cli", "demo", "--database-url", url, "--port", str(port),
        "--kiosk-port", str(kiosk_port), "--kiosk-state-dir", str(state_dir),
    ]  # fmt: skip


def start(command: list[str], log: Path, sigint: str) -> subprocess.Popen[bytes]:
    """In a session of its own (its pid is the session and the group); `sigint` is the shell's
    trap: '' leaves SIGINT ignored across exec, '-' leaves it as default."""
    shell = f"trap {shlex.quote(sigint)} INT; exec {shlex.join(command)}"
    with log.open("wb") as out:
        return subprocess.Popen(
            ["sh", "-c", shell],
            cwd=ROOT,
            env={**os.environ, **CHEAP_HASHING},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def session_of(sid: int) -> list[str]:
    """The processes of session `sid` (the demo and everything it started), as "pid command"."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":  # field 6 of stat: the session
            found.append(f"{entry.name} {command}")
    return found


def ends_within(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


@pytest.mark.parametrize(
    ("stop", "sigint"),
    [("ctrl-c", ""), ("ctrl-c", "-"), ("sigterm", "")],
    ids=["ctrl-c-sigint-inherited-ignored", "ctrl-c-sigint-default", "sigterm"],
)
def test_ctrl_c_or_sigterm_stops_the_server_and_the_kiosk(
    small_demo: str, tmp_path: Path, stop: str, sigint: str
) -> None:
    port, kiosk_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    demo = start(demo_command(small_demo, port, kiosk_port, tmp_path / "kiosk"), log, sigint)
    try:
        wait_for_port(port, timeout=60, process=demo)
        wait_for_port(kiosk_port, timeout=60, process=demo)  # enrolled, the agent serving
        running = session_of(demo.pid)
        assert any("gunicorn" in p for p in running) and any("kiosk run" in p for p in running)
        if stop == "ctrl-c":
            os.killpg(demo.pid, signal.SIGINT)  # a terminal's Ctrl+C: the foreground group
        else:
            demo.send_signal(signal.SIGTERM)
        assert demo.wait(30) == 0, log.read_text()
        assert ends_within(lambda: not session_of(demo.pid), 10), session_of(demo.pid)
        assert not port_in_use("127.0.0.1", port) and not port_in_use("127.0.0.1", kiosk_port)
    finally:
        for line in session_of(demo.pid):  # only what this test started: its own session
            os.kill(int(line.split()[0]), signal.SIGKILL)
        if demo.poll() is None:
            demo.kill()
            demo.wait(10)
    output = log.read_text()
    assert "Traceback" not in output, output
    assert "ediary demo: stopped the server and the demo kiosk." in output


@pytest.mark.parametrize("taken", ["--port", "--kiosk-port"])
def test_a_port_in_use_is_one_line_before_anything_starts(
    small_demo: str, tmp_path: Path, taken: str
) -> None:
    port, kiosk_port = free_port(), free_port()
    occupied = port if taken == "--port" else kiosk_port
    with socket.socket() as other:  # another program listening there
        other.bind(("127.0.0.1", occupied))
        other.listen()
        result = subprocess.run(
            demo_command(small_demo, port, kiosk_port, tmp_path / "kiosk"),
            cwd=ROOT,
            env={**os.environ, **CHEAP_HASHING},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: Port {occupied} on 127.0.0.1 is in use (is another `ediary demo` still "
        f"running?); stop that program, or choose another port with {taken}.\n"
    )
    assert not port_in_use("127.0.0.1", port if taken == "--kiosk-port" else kiosk_port)
    assert not (tmp_path / "kiosk").exists()  # no kiosk was enrolled or started
