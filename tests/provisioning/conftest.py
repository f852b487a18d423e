"""Shared pieces of the provisioning tests: the Debian tools they need, and a Chromium that reads a
managed policy from a private mount namespace.

The tools come from Debian packages listed in provisioning/test-requirements-apt.txt. When one is
missing and the tests run as root, provisioning/install-test-requirements.sh installs them; when
that is impossible the test is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import servers

ROOT = Path(__file__).resolve().parents[2]
PROVISIONING = ROOT / "provisioning"
IN_CI = os.environ.get("CI", "").lower() == "true"
IS_ROOT = os.geteuid() == 0
_installed = False


def unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_tools(*tools: str) -> None:
    """Each tool on PATH (or an absolute path), installing the test packages once if one is not."""
    global _installed
    missing = [tool for tool in tools if not _found(tool)]
    if missing and IS_ROOT and not _installed:
        _installed = True
        subprocess.run(
            ["bash", str(PROVISIONING / "install-test-requirements.sh")],
            check=False,
            stdin=subprocess.DEVNULL,
        )
        missing = [tool for tool in tools if not _found(tool)]
    if missing:
        unavailable(
            f"missing {', '.join(missing)}: run provisioning/install-test-requirements.sh as root"
        )


def require_root(why: str) -> None:
    if not IS_ROOT:
        unavailable(f"needs root: {why}")


def _found(tool: str) -> bool:
    if tool.startswith("/"):
        return os.access(tool, os.X_OK)
    return shutil.which(tool) is not None


def policy_for_port(port: int) -> dict[str, object]:
    """The managed Chromium policy exactly as setup-kiosk.sh writes it for an agent on `port`."""
    require_tools("bash")
    out = subprocess.run(
        [
            "bash",
            str(PROVISIONING / "kiosk" / "setup-kiosk.sh"),
            "--print-chromium-policy",
            "--port",
            str(port),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    policy: dict[str, object] = json.loads(out)
    return policy


@contextmanager
def chromium_with_policy(policy: dict[str, object], workdir: Path) -> Iterator[Path]:
    """A launcher for /usr/bin/chromium that sees `policy` as /etc/chromium/policies/managed/.

    Debian's Chromium reads managed policy only from /etc/chromium/policies/managed/ (the path is
    built in; a --user-data-dir does not move it). Writing there would lock down every other
    browser test running at the same time, so the launcher starts Chromium in a private mount
    namespace (`unshare -m`) where a copy of /etc/chromium with the policy is bind-mounted over the
    real one: only this browser and its children see it, and nothing is left behind.
    """
    require_root("a private mount namespace for Chromium's policy directory")
    require_tools("unshare", "/usr/bin/chromium")
    if not Path("/etc/chromium").is_dir():
        unavailable("/etc/chromium does not exist: is Debian's chromium installed?")
    etc = workdir / "etc-chromium"
    shutil.copytree("/etc/chromium", etc, symlinks=True, dirs_exist_ok=True)
    shutil.rmtree(etc / "policies", ignore_errors=True)
    (etc / "policies" / "managed").mkdir(parents=True)
    (etc / "policies" / "managed" / "ediary-kiosk.json").write_text(json.dumps(policy))
    launcher = workdir / "chromium-with-policy"
    launcher.write_text(
        "#!/bin/sh\n"
        "# Chromium with a private /etc/chromium (see tests/provisioning/conftest.py)\n"
        f"exec unshare --mount --propagation private sh -c "
        f'\'mount --bind "$0" /etc/chromium && exec /usr/bin/chromium "$@"\' \'{etc}\' "$@"\n'
    )
    launcher.chmod(0o755)
    yield launcher


def self_signed(directory: Path, name: str = "dziennik.test") -> tuple[Path, Path]:
    require_tools("openssl")
    return servers.self_signed(directory, name)
