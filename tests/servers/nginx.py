"""nginx on loopback in front of the server processes: the production site as
provisioning/server/render-nginx.sh renders it (TLS, sticky hashing of the client's address),
with a throwaway self-signed certificate."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.servers.process import ROOT, Process, free_port, tool


def self_signed(directory: Path, name: str = "dziennik.test") -> tuple[Path, Path]:
    """A throwaway certificate and key for `name` and 127.0.0.1 (in the SAN, which is what
    hostname checks read), in `directory`."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            tool("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def loopback_nginx_conf(
    directory: Path,
    ports: Sequence[int],
    cert: Path,
    key: Path,
    *,
    http_port: int,
    https_port: int,
    access_log: Path,
    workers: int = 1,
    connections: int = 256,
    open_files: int | None = None,
    kiosk_ports: Sequence[int] = (),
) -> Path:
    """An nginx.conf for a throwaway nginx on 127.0.0.1 in front of `ports`: the production site
    as provisioning/server/render-nginx.sh renders it for a deployment, inside a minimal main
    configuration of its own; everything nginx writes stays in `directory`. The kiosks' path
    goes to `kiosk_ports`, by default to `ports` (processes that serve both kinds)."""
    site = subprocess.run(
        [
            "bash",
            str(ROOT / "provisioning/server/render-nginx.sh"),
            "--server-name",
            "127.0.0.1",
            "--ports",
            ",".join(map(str, ports)),
            "--kiosk-ports",
            ",".join(map(str, kiosk_ports or ports)),
            "--cert",
            str(cert),
            "--key",
            str(key),
            "--static",
            str(ROOT / "static"),
            "--listen",
            "127.0.0.1",
            "--http-port",
            str(http_port),
            "--https-port",
            str(https_port),
            "--access-log",
            str(access_log),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    (directory / "ediary.conf").write_text(site)
    temp = directory / "nginx-temp"
    temp.mkdir(exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(f"""
daemon off;
worker_processes {workers};
{f"worker_rlimit_nofile {open_files};" if open_files else ""}
{"user root;" if os.geteuid() == 0 else ""}
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log warn;
events {{ worker_connections {connections}; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {directory}/ediary.conf;
}}
""")
    return conf


class Nginx(Process):
    """nginx in front of the server processes on `upstream_ports`, serving HTTPS on
    `https_port` (chosen before the servers start: they must accept its origin) and redirecting
    plain HTTP from `http_port`. Its configuration is rendered when it starts."""

    port: int
    log: Path

    def __init__(
        self,
        directory: Path,
        upstream_ports: Sequence[int],
        cert: Path,
        key: Path,
        *,
        https_port: int | None = None,
        workers: int = 1,
        connections: int = 256,
        open_files: int | None = None,
        kiosk_ports: Sequence[int] = (),
    ) -> None:
        self.directory = directory
        self.upstream_ports = list(upstream_ports)
        self.kiosk_ports = list(kiosk_ports)
        self.cert, self.key = cert, key
        self.http_port = free_port()
        self.access_log = directory / "nginx-access.log"
        self.workers, self.connections, self.open_files = workers, connections, open_files
        port = https_port or free_port()
        self.url = f"https://127.0.0.1:{port}"
        super().__init__(
            ["nginx", "-c", str(directory / "nginx.conf"), "-p", str(directory)],
            log=directory / "nginx-stderr.log",
            port=port,
            start_timeout=20.0,
        )

    def spawn(self) -> None:
        self.command[0] = tool("nginx")
        loopback_nginx_conf(
            self.directory,
            self.upstream_ports,
            self.cert,
            self.key,
            http_port=self.http_port,
            https_port=self.port,
            access_log=self.access_log,
            workers=self.workers,
            connections=self.connections,
            open_files=self.open_files,
            kiosk_ports=self.kiosk_ports,
        )
        super().spawn()

    def pids(self) -> list[int]:
        """The master and its workers (whose memory and CPU a benchmark reads)."""
        return [self.pid, *self.children()] if self.running else []
