"""Started in the background by `ediary demo`: waits for the demo server, enrolls the demo kiosk
with a one-time code, then becomes the kiosk agent (`python -m kiosk run`).

The kiosk is a separate program that shares only the wire protocol with the server, so it is
started as a process, never imported.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

WAIT_SECONDS = 120


def _wait_for(server: str) -> bool:
    address = urlsplit(server)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address.hostname, address.port or 80), timeout=1):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def main(argv: list[str]) -> int:
    server, code, state_dir, port = argv
    if not _wait_for(server):
        print(f"demo kiosk: the server at {server} did not start; no kiosk", file=sys.stderr)
        return 1
    kiosk = [sys.executable, "-m", "kiosk"]
    enrolled = subprocess.run(  # noqa: S603 - our interpreter, our arguments
        [*kiosk, "enroll", "--server", server, "--code", code, "--state-dir", state_dir],
        check=False,
    )
    if enrolled.returncode != 0:
        print("demo kiosk: enrollment failed; no kiosk", file=sys.stderr)
        return enrolled.returncode
    run = [*kiosk, "run", "--server", server, "--state-dir", state_dir, "--port", port]
    os.execv(sys.executable, run)  # noqa: S606 - our own interpreter, fixed arguments


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
