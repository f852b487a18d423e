"""Real server processes for end-to-end tests: gunicorn with the gevent worker, on loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def wait_for_port(
    port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pid(self) -> int:
        """The one gunicorn worker (`-w 1`): the process that serves, and the one to pause."""
        (pid,) = children(self.process.pid)
        return pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@contextmanager
def running_server(
    database_url: str, log_dir: Path, *, port: int | None = None, **env_overrides: str
) -> Iterator[Server]:
    """Starts `gunicorn -k gevent -w 1 ediary.wsgi:app` against `database_url`; stops it after."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "EDIARY_DATABASE_URL": database_url,
        "EDIARY_SECRET_KEY": "test-server-secret-0123456789abcdef",
        "EDIARY_SOCKETIO_ORIGINS": url,
        "EDIARY_ARGON2_TIME_COST": "1",
        "EDIARY_ARGON2_MEMORY_KIB": "8",
        "EDIARY_ARGON2_PARALLELISM": "1",
        **env_overrides,
    }
    log = log_dir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-k",
                "gevent",
                "-w",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--no-control-socket",  # gunicorn 27: one shared socket path for every test server
                "--graceful-timeout",
                "2",
                "ediary.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(url=url, port=port, process=process, log=log)
    try:
        wait_for_port(port, process=process)
        yield server
    finally:
        server.stop()


class MissingTool(RuntimeError):
    """A program the tests or benchmarks start is not installed."""


def start_or_skip(server: RedisServer) -> RedisServer:
    """Starts the server for a test; a missing program skips it, and fails it under CI=true."""
    try:
        server.start()
    except MissingTool as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    return server


class RedisServer:
    """A private redis-server on a free loopback port (never the machine's own 6379), so a test
    or a benchmark may stop and restart it. Shared by the tests and bench/."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise MissingTool("redis-server is not installed (Debian package redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=10, process=self.process)  # type: ignore[arg-type]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


def self_signed(directory: Path, name: str = "dziennik.test") -> tuple[Path, Path]:
    """A throwaway certificate and key for `name` and 127.0.0.1 (in the SAN, which is what
    hostname checks read), in `directory`."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise MissingTool("openssl is not installed (Debian package openssl)")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
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
    ports: list[int],
    cert: Path,
    key: Path,
    *,
    http_port: int,
    https_port: int,
    access_log: Path,
    workers: int = 1,
    connections: int = 256,
    open_files: int | None = None,
) -> Path:
    """An nginx.conf for a throwaway nginx on 127.0.0.1 in front of `ports`: the production site
    as provisioning/server/render-nginx.sh renders it for a deployment, inside a minimal main
    configuration of its own; everything nginx writes stays in `directory`."""
    site = subprocess.run(
        [
            "bash",
            str(ROOT / "provisioning/server/render-nginx.sh"),
            "--server-name",
            "127.0.0.1",
            "--ports",
            ",".join(map(str, ports)),
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
    temp.mkdir()
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
