"""`ediary demo`'s two programs, the server and the demo kiosk: started together, stopped together.

Ctrl+C once left the kiosk agent running on its port (it had inherited SIGINT ignored), and the
next `ediary demo` crashed on "Address already in use". Now `ediary demo` stays the parent of
both: each child runs in its own process group, so a terminal's Ctrl+C (SIGINT to the foreground
group) and a SIGTERM reach only `ediary demo`, which stops the server (SIGINT: gunicorn's quick
shutdown) and the kiosk (SIGTERM: the agent, or its launcher still enrolling), waits for them,
and kills what is left after a deadline. Written by hand (a few lines of subprocess) rather than
with a process manager such as honcho or supervisord: two children and one rule, nothing to add.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import click

STOP_SECONDS = 10.0
POLL_SECONDS = 0.2


def port_in_use(host: str, port: int) -> bool:
    """Whether a program listens there. The probe binds with SO_REUSEADDR as gunicorn and
    waitress do, so a port whose old connections linger in TIME_WAIT counts as free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def refuse_ports_in_use(wanted: list[tuple[str, int, str]]) -> None:
    """One line for the first (host, port, option) taken, before anything starts."""
    for host, port, option in wanted:
        if port_in_use(host, port):
            raise click.ClickException(
                f"Port {port} on {host} is in use (is another `ediary demo` still running?); "
                f"stop that program, or choose another port with {option}."
            )


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    # Its own process group: the terminal's Ctrl+C reaches only us, and we stop it in order.
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, process_group=0)  # noqa: S603


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with suppress(ProcessLookupError):  # gone already
        os.killpg(process.pid, signum)


def _stop(process: subprocess.Popen[bytes], signum: int) -> None:
    """Asks the process to stop (the server's master passes it on to its worker)."""
    if process.poll() is None:
        process.send_signal(signum)  # Popen's own: a no-op once the process has been reaped


def _wait_or_kill(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(STOP_SECONDS)
        # Whatever the process started and left behind in its group (a gunicorn worker, the
        # enrollment the launcher was waiting for) goes with it.
        _signal_group(process, signal.SIGKILL)


@contextmanager
def _stopping_on(*signals: signal.Signals) -> Iterator[threading.Event]:
    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in signals}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def supervise(server: list[str], kiosk: list[str] | None) -> int:
    """Runs both until Ctrl+C, SIGTERM or the server's own end; returns the exit status.

    The kiosk ending on its own (its enrollment failed, and its launcher said why) leaves the
    server running: the web pages are the demo too.
    """
    with _stopping_on(signal.SIGINT, signal.SIGTERM) as stop:
        server_process = _start(server)
        kiosk_process = _start(kiosk) if kiosk else None
        try:
            while not stop.is_set() and server_process.poll() is None:
                stop.wait(POLL_SECONDS)
        finally:
            _stop(server_process, signal.SIGINT)
            if kiosk_process is not None:
                _stop(kiosk_process, signal.SIGTERM)
            _wait_or_kill([p for p in (server_process, kiosk_process) if p is not None])
        if stop.is_set():
            click.echo("ediary demo: stopped the server and the demo kiosk.", err=True)
            return 0
    return server_process.returncode or 0
