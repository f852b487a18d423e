"""The provisioning files checked by the tools that will read them: shellcheck on every script,
`systemd-analyze verify` on every server unit, Debian's `nginx -t` on the generated site, logrotate,
and PostgreSQL's own catalogue for the settings file. Each checker is also shown to fail on a
broken file, so that a pass means something."""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.district.cluster import unit_nice
from tests.provisioning.conftest import (
    PROVISIONING,
    ROOT,
    require_root,
    require_tools,
    self_signed,
)
from tests.servers import Server, ServerConfig

SERVER = PROVISIONING / "server"


def scripts() -> list[Path]:
    """Every shell script under provisioning/, found by its #! line, not its name."""
    found = []
    for path in sorted(PROVISIONING.rglob("*")):
        if path.is_file() and path.suffix not in {".py", ".json", ".md", ".txt", ".conf"}:
            first = path.read_bytes()[:40]
            if re.match(rb"#!\s*/(usr/)?bin/(env )?(ba)?sh\b", first):
                found.append(path)
    return found


def test_the_scripts_are_found() -> None:
    names = {path.name for path in scripts()}
    assert {
        "setup-kiosk.sh",
        "kiosk-browser",
        "render-nginx.sh",
        "ediary-backup.sh",
        "setup-database.sh",
        "install-test-requirements.sh",
    } <= names


@pytest.mark.parametrize("script", scripts(), ids=lambda p: str(p.relative_to(PROVISIONING)))
def test_shellcheck(script: Path) -> None:
    require_tools("shellcheck")
    result = subprocess.run(
        ["shellcheck", "--external-sources", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        cwd=script.parent,
    )
    assert result.returncode == 0, result.stdout


def test_shellcheck_catches_a_bad_script(tmp_path: Path) -> None:
    require_tools("shellcheck")
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\nrm -rf $1/*\n")
    assert subprocess.run(["shellcheck", str(bad)], capture_output=True).returncode != 0


# -- systemd -------------------------------------------------------------------------------------


@pytest.fixture
def unit_root(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """A root for `systemd-analyze verify --root`: the host's unit library, the server's units and
    the programs they start, where the README installs them."""

    def make(overrides: dict[str, str]) -> Path:
        root = tmp_path / "root"
        (root / "usr/lib/systemd").mkdir(parents=True)
        shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
        for link in ("lib", "bin", "sbin"):
            (root / link).symlink_to(f"usr/{link}")
        units = root / "etc/systemd/system"
        units.mkdir(parents=True)
        for unit in (SERVER / "systemd").iterdir():
            (units / unit.name).write_text(overrides.get(unit.name, unit.read_text()))
        programs = {
            "opt/ediary/venv/bin/gunicorn": ROOT / ".venv/bin/gunicorn",
            "opt/ediary/venv/bin/ediary": ROOT / ".venv/bin/ediary",
            "usr/local/sbin/ediary-backup": SERVER / "backup/ediary-backup.sh",
            "usr/bin/kill": Path("/usr/bin/kill"),
        }
        for target, source in programs.items():
            (root / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, root / target)
        return root

    return make


def verify(root: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "systemd-analyze",
            "verify",
            "--man=no",
            f"--root={root}",
            *[f"/etc/systemd/system/{unit}" for unit in units],
        ],
        capture_output=True,
        text=True,
    )


SERVER_UNITS = (
    "ediary-server@8001.service",
    "ediary-server@8002.service",
    "ediary-kiosk-server@8101.service",
    "ediary-server.target",
    "ediary-backup.service",
    "ediary-backup.timer",
    "ediary-prune-journal.service",
    "ediary-prune-journal.timer",
    "ediary-privacy-retention.service",
    "ediary-privacy-retention.timer",
)


def test_systemd_analyze_verify_every_server_unit(unit_root: Callable[..., Path]) -> None:
    require_tools("systemd-analyze")
    assert {p.name for p in (SERVER / "systemd").iterdir()} == {
        "ediary-server@.service",
        "ediary-kiosk-server@.service",
        "ediary-server.target",
        "ediary-backup.service",
        "ediary-backup.timer",
        "ediary-prune-journal.service",
        "ediary-prune-journal.timer",
        "ediary-privacy-retention.service",
        "ediary-privacy-retention.timer",
    }
    result = verify(unit_root({}), *SERVER_UNITS)
    # A bad setting is only a warning to systemd: anything on stderr fails the test.
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("Restart=always", "Restart=sometimes"), "Failed to parse service restart specifier"),
        (("/opt/ediary/venv/bin/gunicorn", "/opt/ediary/venv/bin/gunicorn3"), "not executable"),
    ],
)
def test_systemd_analyze_catches_a_broken_unit(
    unit_root: Callable[..., Path], change: tuple[str, str], complaint: str
) -> None:
    require_tools("systemd-analyze")
    unit = (SERVER / "systemd/ediary-server@.service").read_text()
    assert change[0] in unit
    root = unit_root({"ediary-server@.service": unit.replace(*change)})
    result = verify(root, "ediary-server@8001.service")
    assert complaint in result.stderr


@pytest.mark.parametrize(
    ("unit_file", "sockets"),
    [("ediary-server@.service", "people"), ("ediary-kiosk-server@.service", "kiosks")],
)
def test_the_server_units_run_the_realtime_gunicorn_settings(unit_file: str, sockets: str) -> None:
    unit = (SERVER / "systemd" / unit_file).read_text()
    assert "--config /opt/ediary/src/provisioning/gunicorn.conf.py" in unit
    assert (PROVISIONING / "gunicorn.conf.py").exists()
    assert "Environment=EDIARY_BIND=127.0.0.1:%i" in unit
    assert "EnvironmentFile=/etc/ediary/ediary.env" in unit
    # Each kind of process serves its own sockets only (tests/realtime/test_socket_kinds.py).
    assert re.findall(r"^Environment=EDIARY_SOCKETS=(\w+)$", unit, re.M) == [sockets]
    # A dead worker takes the process down (gunicorn.conf.py, child_exit); systemd restarts it.
    assert "Environment=EDIARY_EXIT_WITH_WORKER=1" in unit and "Restart=always" in unit
    assert "WantedBy=ediary-server.target" in unit and "PartOf=ediary-server.target" in unit


def test_the_two_kinds_of_process_differ_only_in_what_they_serve_and_who_goes_first() -> None:
    people = (SERVER / "systemd/ediary-server@.service").read_text()
    kiosks = (SERVER / "systemd/ediary-kiosk-server@.service").read_text()
    priority = ("Nice=", "CPUWeight=")

    def settings(unit: str) -> list[str]:
        lines = [line for line in unit.splitlines() if line and not line.startswith("#")]
        return [
            line
            for line in lines
            if not line.startswith(("Description=", "Environment=EDIARY_SOCKETS=", *priority))
        ]

    assert settings(people) == settings(kiosks)
    # Under a full CPU the kiosks' processes go first, with or without systemd's CPU controller
    # (the kiosks' unit keeps the defaults: Nice=0, CPUWeight=100).
    assert [line for line in kiosks.splitlines() if line.startswith(priority)] == []
    assert unit_nice(people) == 10 and unit_nice(kiosks) == 0
    assert re.findall(r"^CPUWeight=(\d+)$", people, re.M) == ["25"]


def test_the_drill_runs_the_peoples_processes_at_their_units_priority() -> None:
    # bench/district/cluster.py reads the unit, as RestartSec; gunicorn starts under nice.
    assert unit_nice("[Service]\nNice=10\n") == 10 and unit_nice("[Service]\n") == 0
    niced = Server(ServerConfig(None, nice=10), Path("/nonexistent"), port=1)
    assert niced.command[:3] == ["nice", "-n", "10"] and "gunicorn" in niced.command
    assert Server(ServerConfig(None), Path("/nonexistent"), port=1).command[0] != "nice"


# -- nginx ---------------------------------------------------------------------------------------


def render_nginx(directory: Path, *extra: str) -> Path:
    cert, key = self_signed(directory)
    site = directory / "ediary.conf"
    result = subprocess.run(
        [
            "bash",
            str(SERVER / "render-nginx.sh"),
            "--server-name",
            "dziennik.test",
            "--ports",
            "8001,8002",
            "--kiosk-ports",
            "8101,8102",
            "--cert",
            str(cert),
            "--key",
            str(key),
            "--static",
            str(ROOT / "static"),
            "--access-log",
            str(directory / "access.log"),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    site.write_text(result.stdout)
    return site


def nginx_t_with_debians_main_config(
    directory: Path, site: Path
) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on Debian's own nginx.conf with the site where sites-enabled would be."""
    main = Path("/etc/nginx/nginx.conf").read_text()  # installed with Debian's nginx
    assert "include /etc/nginx/sites-enabled/*;" in main
    conf = directory / "nginx.conf"
    conf.write_text(main.replace("include /etc/nginx/sites-enabled/*;", f"include {site};"))
    return subprocess.run(["nginx", "-t", "-c", str(conf)], capture_output=True, text=True)


def test_nginx_accepts_the_generated_site(tmp_path: Path) -> None:
    require_root("nginx -t reads the TLS key as root")
    require_tools("nginx")
    site = render_nginx(tmp_path)
    text_ = site.read_text()
    assert upstreams(text_) == {"ediary_app": [8001, 8002], "ediary_kiosk": [8101, 8102]}
    assert "@" not in re.sub(r"#.*", "", text_), "a placeholder was left"
    result = nginx_t_with_debians_main_config(tmp_path, site)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[warn]" not in result.stderr


def upstreams(site: str) -> dict[str, list[int]]:
    """Each upstream block's name and the ports of its servers."""
    return {
        name: [int(port) for port in re.findall(r"server 127\.0\.0\.1:(\d+)", body)]
        for name, body in re.findall(r"^upstream (\w+) \{(.*?)^\}", site, re.M | re.S)
    }


def locations(site: str) -> dict[str, str]:
    """Each location of the HTTPS server and the upstream it passes to ("" for none)."""
    https = site[site.index("ssl_certificate ") :]
    found = {}
    for path, body in re.findall(r"^    location (\S+) \{(.*?)^    \}", https, re.M | re.S):
        upstream = re.search(r"proxy_pass http://(\w+)[;/]", body)
        found[path] = upstream.group(1) if upstream else ""
    return found


def test_kiosks_and_people_go_to_their_own_processes(tmp_path: Path) -> None:
    """The kiosks' Socket.IO path to the kiosks' processes and nothing else there; the parents'
    sockets and pages to theirs. nginx matches the longest prefix, so /kiosk/socket.io/ is never
    taken by `/`; the kiosks' processes get no page and no parent."""
    site = render_nginx(tmp_path).read_text()
    assert upstreams(site) == {"ediary_app": [8001, 8002], "ediary_kiosk": [8101, 8102]}
    assert locations(site) == {
        "/static/": "",
        "/socket.io/": "ediary_app",
        "/kiosk/socket.io/": "ediary_kiosk",
        "/": "ediary_app",
    }
    # The agent's default path is the one nginx sends to the kiosks (kiosk/config.py).
    from kiosk.config import Config as KioskConfig

    assert f"/{KioskConfig().socketio_path.strip('/')}/" == "/kiosk/socket.io/"
    # Both socket locations upgrade to WebSocket with the same timeouts.
    kiosk_block = site[site.index("location /kiosk/socket.io/") :].split("}", 1)[0]
    people_block = site[site.index("location /socket.io/") :].split("}", 1)[0]
    for setting in ("Upgrade $http_upgrade", "proxy_read_timeout 75s", "proxy_buffering off"):
        assert setting in kiosk_block and setting in people_block


def test_a_kiosks_connection_refused_by_one_process_goes_on_to_the_next(tmp_path: Path) -> None:
    """A kiosks' process whose worker died has closed its port (gunicorn.conf.py, child_exit;
    tests/provisioning/test_worker_death.py): nginx passes the handshake on (`error`), never a
    request another process already received (no `non_idempotent`), and tries every process
    (kiosks are never marked down: max_fails=0)."""
    site = render_nginx(tmp_path).read_text()
    kiosk_block = site[site.index("location /kiosk/socket.io/") :].split("}", 1)[0]
    settings = [
        line.strip() for line in kiosk_block.splitlines() if not line.strip().startswith("#")
    ]
    assert "proxy_next_upstream error timeout;" in settings
    assert not [line for line in settings if "non_idempotent" in line]
    assert not [line for line in settings if "next_upstream_tries" in line]  # every process
    kiosk_upstream = site[site.index("upstream ediary_kiosk") :].split("}", 1)[0]
    assert re.findall(r"server 127\.0\.0\.1:\d+ (.*);", kiosk_upstream) == ["max_fails=0"] * 2


def test_nginx_closes_an_idle_upstream_connection_before_gunicorn_does(tmp_path: Path) -> None:
    """Otherwise a request sent on a connection gunicorn is closing gets no answer, and nginx
    does not retry a POST: the city drill's parents' logins answered 502."""
    site = render_nginx(tmp_path).read_text()
    upstream = site[site.index("upstream ediary_app") :].split("}", 1)[0]
    found = re.search(r"^\s*keepalive_timeout (\d+)s;", upstream, re.MULTILINE)
    assert found is not None, upstream
    gunicorn = runpy.run_path(str(PROVISIONING / "gunicorn.conf.py"))
    assert int(found.group(1)) < gunicorn["keepalive"]


def test_the_site_needs_the_kiosks_processes(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    result = subprocess.run(
        [
            *("bash", str(SERVER / "render-nginx.sh"), "--server-name", "dziennik.test"),
            *("--ports", "8001", "--cert", str(cert), "--key", str(key)),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 64 and "--kiosk-ports" in result.stderr


def test_nginx_t_catches_a_broken_site(tmp_path: Path) -> None:
    require_root("nginx -t reads the TLS key as root")
    require_tools("nginx")
    site = render_nginx(tmp_path, "--max-body", "two-megabytes")
    assert nginx_t_with_debians_main_config(tmp_path, site).returncode != 0


def test_nginx_is_tuned_for_a_districts_sockets(tmp_path: Path) -> None:
    """tune-nginx.sh on a copy of Debian's /etc/nginx: the limits are in the configuration nginx
    reads (`nginx -T`), twice in a row changes nothing, and a file it cannot tune is refused."""
    require_root("nginx -t reads the TLS key as root")
    require_tools("nginx")
    copy = tmp_path / "nginx"
    shutil.copytree("/etc/nginx", copy, symlinks=True)
    main = copy / "nginx.conf"
    main.write_text(main.read_text().replace("/etc/nginx/", f"{copy}/"))
    site = render_nginx(tmp_path)
    (copy / "sites-enabled").mkdir(exist_ok=True)
    for old in (copy / "sites-enabled").iterdir():
        old.unlink()
    (copy / "sites-enabled" / "ediary").symlink_to(site)
    tune = [str(SERVER / "nginx/tune-nginx.sh"), "--conf-dir", str(copy)]

    assert subprocess.run(tune, capture_output=True, text=True).returncode == 0
    once = main.read_text()
    assert subprocess.run(tune, capture_output=True, text=True).returncode == 0
    assert main.read_text() == once
    effective = subprocess.run(["nginx", "-T", "-c", str(main)], capture_output=True, text=True)
    assert effective.returncode == 0, effective.stderr
    assert re.search(r"^\s*worker_connections 20000;", effective.stdout, re.M)
    assert re.search(r"^worker_rlimit_nofile 65536;", effective.stdout, re.M)
    assert "[warn]" not in effective.stderr

    main.write_text(once.replace("worker_connections 20000;", ""))
    refused = subprocess.run(tune, capture_output=True, text=True)
    assert refused.returncode == 1 and "worker_connections" in refused.stderr


# -- logrotate, PostgreSQL settings ---------------------------------------------------------------


def test_logrotate_reads_the_configuration(tmp_path: Path) -> None:
    require_tools("logrotate")
    conf = (SERVER / "logrotate/ediary").read_text()
    # The server has the ediary user (README); this machine may not, and logrotate checks it.
    assert "create 0640 ediary adm" in conf
    local = tmp_path / "ediary"
    local.write_text(conf.replace("create 0640 ediary adm", "create 0640 root adm"))
    result = subprocess.run(
        ["logrotate", "--debug", "--state", str(tmp_path / "state"), str(local)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower()
    assert "rotating pattern: /var/log/ediary/*.log" in result.stderr


def test_the_postgresql_settings_exist_with_valid_values(pg_server: str) -> None:
    settings = {}
    for line in (SERVER / "postgresql/ediary.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, value = (part.strip() for part in line.split("=", 1))
            settings[name] = value.strip("'")
    assert {"fsync", "synchronous_commit", "full_page_writes"} <= set(settings)
    engine = create_engine(pg_server)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, vartype, enumvals FROM pg_settings WHERE name = ANY(:names)"),
            {"names": list(settings)},
        ).all()
    engine.dispose()
    catalogue = {row.name: row for row in rows}
    assert set(catalogue) == set(settings), "a setting PostgreSQL does not know"
    for name, value in settings.items():
        row = catalogue[name]
        if row.vartype == "bool":
            assert value in {"on", "off"}, name
        elif row.vartype == "enum":
            assert value in row.enumvals, name
        elif row.vartype == "integer":
            assert value.isdigit(), name
