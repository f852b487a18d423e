"""setup-kiosk.sh run for real, as root, inside a throwaway Debian made by debootstrap.

The root is a minimal Debian of the host's release (about 30 s to make on an idle machine); the
script then installs its packages into it with apt, the agent with pip, and enrolls against a
stand-in for the server's enrollment endpoint on loopback. Nothing runs as a service inside (no
systemd is booted in a chroot, and a policy-rc.d keeps package scripts from starting daemons, as in
any image build), so the test checks what a booted machine would start from: users, files, modes,
owners, enabled and masked units. Then the script runs again and must change nothing, down to a
file's modification time.

Mounts (/proc, /dev, /sys) are made inside a private mount namespace, so they vanish with it even
if the test dies.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.provisioning.conftest import ROOT, policy_for_port, require_root, require_tools
from tests.servers import free_port

pytestmark = pytest.mark.slow

MIRROR = os.environ.get("EDIARY_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SERVER_CODE = "KOD-1234-ABCD"
AGENT_PORT = 8090
# What a run may touch without "changing" the kiosk: kernel views, runtime state, logs, caches.
# Paths inside the throwaway root (not the host's /tmp).
CHROOT_CA = "/tmp/host-ca-certificates.crt"  # noqa: S108
CHROOT_SETUP = "/tmp/ediary/provisioning/kiosk/setup-kiosk.sh"  # noqa: S108
VOLATILE = ("proc", "sys", "dev", "run", "tmp", "var/log", "var/cache", "var/tmp")


@dataclass
class Enrollment:
    """A stand-in for the server's POST /api/kiosk/enroll (the real one has its own tests)."""

    port: int
    codes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def enrollment_server() -> Iterator[Enrollment]:
    enrollment = Enrollment(port=free_port())

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            enrollment.codes.append(body.get("code"))
            if self.path == "/api/kiosk/enroll" and body.get("code") == SERVER_CODE:
                status, reply = (
                    200,
                    {
                        "ok": True,
                        "kiosk_id": 7,
                        "secret": "s3cret-device-key",
                        "room": "Sala 12",
                        "school": "SP 1",
                    },
                )
            else:
                status, reply = 403, {"ok": False, "error": "bad_code"}
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", enrollment.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield enrollment
    server.shutdown()
    server.server_close()


def host_codename() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    return "bookworm"


def in_chroot(root: Path, command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Runs `command` chrooted into `root`, /proc, /dev and /sys mounted in a private namespace."""
    script = (
        'set -e; r="$1"; shift; '
        'mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; mount -t sysfs sys "$r/sys"; '
        'exec chroot "$r" "$@"'
    )
    return subprocess.run(  # type: ignore[call-overload]
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-c",
            script,
            "-",
            str(root),
            *command,
        ],
        text=True,
        **kwargs,
    )


def chroot_env() -> dict[str, str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
    # A proxy or a private CA that the host's pip uses is the chroot's network too.
    for name in (
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_DEFAULT_TIMEOUT",
    ):
        if name in os.environ:
            env[name] = os.environ[name]
    env["PIP_CERT"] = env["SSL_CERT_FILE"] = CHROOT_CA
    return env


@pytest.fixture(scope="module")
def debian_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_root("debootstrap and chroot")
    require_tools("debootstrap", "unshare", "chroot")
    root = tmp_path_factory.mktemp("kiosk-root") / "root"
    started = time.monotonic()
    result = subprocess.run(
        ["debootstrap", "--variant=minbase", host_codename(), str(root), MIRROR],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"debootstrap: {time.monotonic() - started:.0f}s")
    # What any image build does: the host's resolver and trusted CAs, and no daemons started by
    # package scripts inside the chroot.
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", root / CHROOT_CA.lstrip("/"))
    policy_rc = root / "usr/sbin/policy-rc.d"
    policy_rc.write_text("#!/bin/sh\nexit 101\n")
    policy_rc.chmod(0o755)
    # The checkout, as an IT person would clone it onto the machine.
    source = root / "tmp/ediary"
    source.mkdir()
    for name in (
        "pyproject.toml",
        "README.md",
        "kiosk",
        "ediary",
        "templates",
        "static",
        "provisioning",
    ):
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.exists():
            shutil.copy(path, source / name)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_setup(
    root: Path, enrollment: Enrollment, code: str = SERVER_CODE, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = in_chroot(
        root,
        [
            "/bin/bash",
            CHROOT_SETUP,
            "--server",
            enrollment.url,
            "--code",
            code,
            "--port",
            str(AGENT_PORT),
        ],
        capture_output=True,
        env=chroot_env(),
        stdin=subprocess.DEVNULL,
    )
    print(f"setup-kiosk.sh: {time.monotonic() - started:.0f}s")
    assert result.returncode == expect, result.stdout[-4000:] + result.stderr[-4000:]
    return result


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every path outside the volatile trees, with type, mode, owner, size, mtime, link target."""
    found: dict[str, tuple[object, ...]] = {}
    skip = {root / part for part in VOLATILE}
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in [*dirnames, *filenames]:
            path = here / name
            info = path.lstat()
            target = os.readlink(path) if stat.S_ISLNK(info.st_mode) else None
            found[str(path.relative_to(root))] = (
                info.st_mode,
                info.st_uid,
                info.st_gid,
                info.st_size,
                info.st_mtime_ns,
                target,
            )
    return found


@dataclass
class Kiosk:
    root: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    before: dict[str, tuple[object, ...]]
    after: dict[str, tuple[object, ...]]
    codes_after_first: list[str]
    server: str

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def passwd(self, user: str) -> list[str]:
        for line in self.path("/etc/passwd").read_text().splitlines():
            if line.split(":")[0] == user:
                return line.split(":")
        raise AssertionError(f"no user {user}")

    def uid(self, user: str) -> int:
        return int(self.passwd(user)[2])

    def groups_of(self, user: str) -> set[str]:
        groups = set()
        for line in self.path("/etc/group").read_text().splitlines():
            name, _, _, members = line.split(":")
            if user in members.split(","):
                groups.add(name)
        return groups


def provision(debian_root: Path, enrollment_server: Enrollment) -> Kiosk:
    first = run_setup(debian_root, enrollment_server)
    codes = list(enrollment_server.codes)
    before = snapshot(debian_root)
    time.sleep(1.1)  # so that a rewritten file would show a new modification time
    second = run_setup(debian_root, enrollment_server)
    return Kiosk(
        debian_root, first, second, before, snapshot(debian_root), codes, enrollment_server.url
    )


def check_running_it_twice_changes_nothing(kiosk: Kiosk) -> None:
    assert "changed:" in kiosk.first.stdout
    assert kiosk.second.stdout.strip().splitlines()[-1] == "nothing changed", kiosk.second.stdout
    added = sorted(set(kiosk.after) - set(kiosk.before))
    removed = sorted(set(kiosk.before) - set(kiosk.after))
    modified = sorted(
        p for p in set(kiosk.before) & set(kiosk.after) if kiosk.before[p] != kiosk.after[p]
    )
    assert (added, removed, modified) == ([], [], [])


def check_it_enrolls_once_with_the_code_given(kiosk: Kiosk) -> None:
    assert kiosk.codes_after_first == [SERVER_CODE]
    # The second run saw the credential and did not spend the code again.
    assert "already enrolled" in kiosk.second.stderr


def check_the_credential_is_the_agents_alone(kiosk: Kiosk) -> None:
    credential = kiosk.path("/var/lib/ediary-kiosk/credential.json")
    info = credential.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == kiosk.uid("ediary-kiosk")
    assert json.loads(credential.read_text())["secret"] == "s3cret-device-key"
    state = kiosk.path("/var/lib/ediary-kiosk").stat()
    assert stat.S_IMODE(state.st_mode) == 0o700 and state.st_uid == kiosk.uid("ediary-kiosk")


def check_users_have_no_shell_no_password_and_no_sudo(kiosk: Kiosk) -> None:
    shadow = {
        line.split(":")[0]: line.split(":")[1]
        for line in kiosk.path("/etc/shadow").read_text().splitlines()
    }
    for user in ("ediary-kiosk", "ediary-screen"):
        entry = kiosk.passwd(user)
        assert entry[6] == "/usr/sbin/nologin"
        assert int(entry[2]) < 1000, "a system user"
        assert shadow[user].startswith(("!", "*")), "the password is locked"
        assert kiosk.groups_of(user) & {"sudo", "adm", "wheel", "disk", "video", "input"} == set()
    assert kiosk.passwd("ediary-screen")[5] == "/run/ediary-screen"
    sudoers = kiosk.path("/etc/sudoers.d")
    if sudoers.is_dir():
        assert not any("ediary" in p.read_text() for p in sudoers.iterdir())


def mode_and_owner(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


def check_the_chromium_policy_is_root_owned_and_the_one_generated(kiosk: Kiosk) -> None:
    policy = kiosk.path("/etc/chromium/policies/managed/ediary-kiosk.json")
    assert mode_and_owner(policy) == (0o644, 0, 0)
    for directory in ("/etc/chromium", "/etc/chromium/policies", "/etc/chromium/policies/managed"):
        assert mode_and_owner(kiosk.path(directory)) == (0o755, 0, 0)
    assert json.loads(policy.read_text()) == policy_for_port(AGENT_PORT)
    assert sorted(p.name for p in policy.parent.iterdir()) == ["ediary-kiosk.json"]


def check_the_units_are_installed_and_enabled(kiosk: Kiosk) -> None:
    units = kiosk.path("/etc/systemd/system")
    for unit in ("ediary-kiosk-agent.service", "ediary-kiosk-screen.service"):
        assert mode_and_owner(units / unit) == (0o644, 0, 0)

    # Asked of systemctl itself, offline, as the kiosk's systemd will see it at boot.
    def systemctl(*args: str) -> str:
        return subprocess.run(
            ["systemctl", f"--root={kiosk.root}", *args], capture_output=True, text=True
        ).stdout.strip()

    assert systemctl("get-default") == "graphical.target"
    for unit in (
        "ediary-kiosk-agent.service",
        "ediary-kiosk-screen.service",
        "systemd-timesyncd.service",
    ):
        assert systemctl("is-enabled", unit) == "enabled", unit
    for unit in (
        "getty@tty1.service",
        "getty@tty2.service",
        "autovt@tty3.service",
        "ctrl-alt-del.target",
        "sleep.target",
        "suspend.target",
        "hibernate.target",
        "hybrid-sleep.target",
    ):
        assert systemctl("is-enabled", unit) == "masked", unit
    screen = (units / "ediary-kiosk-screen.service").read_text()
    assert "ExecStart=/usr/bin/cage -- /usr/local/lib/ediary-kiosk/kiosk-browser" in screen
    assert "User=ediary-screen" in screen and "Restart=always" in screen
    assert " -s" not in screen.split("ExecStart=")[1].splitlines()[0]
    browser = kiosk.path("/usr/local/lib/ediary-kiosk/kiosk-browser").read_text()
    assert "--kiosk" in browser and f'"http://127.0.0.1:{AGENT_PORT}/"' in browser
    agent = (units / "ediary-kiosk-agent.service").read_text()
    assert "User=ediary-kiosk" in agent and "Restart=always" in agent


def check_the_units_verify_against_the_kiosk_root(kiosk: Kiosk) -> None:
    # With --root, systemd-analyze checks the executables and users inside the kiosk's own tree.
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            f"--root={kiosk.root}",
            "--man=no",
            "/etc/systemd/system/ediary-kiosk-agent.service",
            "/etc/systemd/system/ediary-kiosk-screen.service",
        ],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stderr) == (0, "")


def check_the_ways_out_are_closed(kiosk: Kiosk) -> None:
    modprobe = kiosk.path("/etc/modprobe.d/ediary-kiosk.conf").read_text()
    assert "install usb_storage /bin/false" in modprobe and "install uas /bin/false" in modprobe
    assert "kernel.sysrq = 0" in kiosk.path("/etc/sysctl.d/60-ediary-kiosk.conf").read_text()
    logind = kiosk.path("/etc/systemd/logind.conf.d/ediary-kiosk.conf").read_text()
    assert "NAutoVTs=0" in logind and "ReserveVT=0" in logind
    assert "consoleblank=0" in kiosk.path("/etc/default/grub.d/ediary-kiosk.cfg").read_text()
    pam = kiosk.path("/etc/pam.d/ediary-kiosk-screen").read_text()
    assert "pam_systemd.so" in pam


def check_updates_time_and_watchdog(kiosk: Kiosk) -> None:
    periodic = kiosk.path("/etc/apt/apt.conf.d/20auto-upgrades").read_text()
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic
    assert kiosk.path("/usr/bin/unattended-upgrade").exists()
    assert (
        "RuntimeWatchdogSec=30s"
        in kiosk.path("/etc/systemd/system.conf.d/ediary-kiosk-watchdog.conf").read_text()
    )
    assert kiosk.path("/lib/systemd/systemd-timesyncd").exists()
    assert os.readlink(kiosk.path("/etc/localtime")).endswith("Europe/Warsaw")


def check_the_agent_is_installed_and_configured(kiosk: Kiosk) -> None:
    config = kiosk.path("/etc/ediary-kiosk/kiosk.toml")
    assert mode_and_owner(config)[:2] == (0o640, 0)
    result = in_chroot(
        kiosk.root,
        [
            "runuser",
            "-u",
            "ediary-kiosk",
            "--",
            "env",
            "EDIARY_KIOSK_CONFIG=/etc/ediary-kiosk/kiosk.toml",
            "/opt/ediary-kiosk/venv/bin/python",
            "-c",
            "from kiosk.config import load; c = load(); print(c.origin, c.server)",
        ],
        capture_output=True,
        env=chroot_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"http://127.0.0.1:{AGENT_PORT}", kiosk.server]
    # The browser's user cannot read the agent's state.
    result = in_chroot(
        kiosk.root,
        ["runuser", "-u", "ediary-screen", "--", "cat", "/var/lib/ediary-kiosk/credential.json"],
        capture_output=True,
        env=chroot_env(),
    )
    assert result.returncode != 0 and "Permission denied" in result.stderr


def check_a_refused_code_stops_the_run(kiosk: Kiosk, enrollment: Enrollment) -> None:
    # As after a revocation: the credential deleted, and a wrong (or spent) code given.
    credential = kiosk.path("/var/lib/ediary-kiosk/credential.json")
    credential.unlink()
    result = run_setup(kiosk.root, enrollment, code="WRONG-CODE", expect=2)
    assert "enrollment failed" in result.stderr
    assert enrollment.codes[-1] == "WRONG-CODE"
    assert not credential.exists()


def test_setup_kiosk_in_a_throwaway_debian(
    debian_root: Path, enrollment_server: Enrollment
) -> None:
    # One test, not one per check: under pytest-xdist, tests of a module may go to different
    # workers, and each would make its own Debian (a minute or more each).
    kiosk = provision(debian_root, enrollment_server)
    check_running_it_twice_changes_nothing(kiosk)
    check_it_enrolls_once_with_the_code_given(kiosk)
    check_the_credential_is_the_agents_alone(kiosk)
    check_users_have_no_shell_no_password_and_no_sudo(kiosk)
    check_the_chromium_policy_is_root_owned_and_the_one_generated(kiosk)
    check_the_units_are_installed_and_enabled(kiosk)
    check_the_units_verify_against_the_kiosk_root(kiosk)
    check_the_ways_out_are_closed(kiosk)
    check_updates_time_and_watchdog(kiosk)
    check_the_agent_is_installed_and_configured(kiosk)
    check_a_refused_code_stops_the_run(kiosk, enrollment_server)
