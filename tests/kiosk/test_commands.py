"""`python -m kiosk` on a mistake: one clear line on standard error and an exit status, never a
traceback (the person at the classroom computer is not a Python programmer)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_status_of_a_state_directory_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    result = kiosk("status", "--state-dir", str(missing))
    assert result.returncode == 2
    assert one_line(result) == f"status: {missing} does not exist; no kiosk is enrolled there\n"
    assert not missing.exists()  # nothing was made on the way


def test_status_of_a_file_instead_of_a_directory(tmp_path: Path) -> None:
    a_file = tmp_path / "kiosk.toml"
    a_file.write_text("")
    result = kiosk("status", "--state-dir", str(a_file))
    assert result.returncode == 2
    assert one_line(result) == f"status: {a_file} is not a directory\n"


def test_run_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = kiosk("run", "--state-dir", str(tmp_path), "--port", str(port))
    assert result.returncode == 4
    assert one_line(result) == (
        f"run: 127.0.0.1:{port} is in use (another kiosk agent running?); "
        "stop it or choose another --port\n"
    )
