"""The server configuration brought up on loopback: nginx (the generated site, TLS with a
self-signed certificate) in front of two gunicorn processes (provisioning/gunicorn.conf.py, as the
systemd template unit starts them), Redis with provisioning/server/redis/ediary.conf, and a fresh
PostgreSQL database made by setup-database.sh, the processes connecting as its least-privileged
role. The settings are those of ediary.env.example, and `ediary check --deploy` passes on them.

The end-to-end promise: a parent logged in through nginx receives an entry written through the
other process (nginx's sticky hashing puts every client of 127.0.0.1 on one process; the log
names it, and the teacher's form goes straight to the other one).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.provisioning.conftest import (
    PROVISIONING,
    ROOT,
    require_root,
    require_tools,
    self_signed,
)
from tests.servers import Nginx, RedisServer, Server, ServerConfig, ServerGroup, free_port

pytest.importorskip("ediary.realtime", reason="the realtime module (/live) has not landed")
from ediary.db import db, utcnow
from ediary.kiosks.access import load_enrollment_code
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import enroll_kiosk, issue_enrollment_code
from kiosk.config import Config as KioskConfig
from tests import factories
from tests.realtime import conftest as realtime

pytestmark = pytest.mark.slow
SERVER = PROVISIONING / "server"


@dataclass
class Stack:
    https: str
    http_port: int
    cert: Path
    servers: dict[int, Server]  # people's processes (ediary-server@)
    kiosk_server: Server  # the kiosks' process (ediary-kiosk-server@)
    access_log: Path
    seeded: realtime.Seeded
    app_role: str
    environ: dict[str, str]

    def session(self) -> requests.Session:
        http = requests.Session()
        # Not the environment's CA bundle (requests would prefer it to `verify`), nor its proxies.
        http.trust_env = False
        http.verify = str(self.cert)
        return http


@pytest.fixture(scope="module")
def database(pg_server: str) -> Iterator[tuple[str, str, str]]:
    """(owner URL, application URL, application role) of a database made by setup-database.sh."""
    require_tools("psql")
    suffix = uuid.uuid4().hex[:10]
    name, app_role, owner_role = (
        f"ediary_stack_{suffix}",
        f"ediary_app_{suffix}",
        f"ediary_own_{suffix}",
    )
    admin = make_url(pg_server)
    env = {
        **os.environ,
        "PGHOST": admin.host or "127.0.0.1",
        "PGPORT": str(admin.port or 5432),
        "PGUSER": admin.username or "postgres",
        "EDIARY_DB_PASSWORD": secrets.token_urlsafe(16),
    }
    script = SERVER / "postgresql/setup-database.sh"
    command = [
        "bash",
        str(script),
        "--database",
        name,
        "--app-role",
        app_role,
        "--owner-role",
        owner_role,
    ]
    try:
        for _ in range(
            2
        ):  # idempotent: the second run must succeed and change nothing that matters
            result = subprocess.run(command, capture_output=True, text=True, env=env)
            assert result.returncode == 0, result.stderr
        base = admin.set(database=name)
        # Migrations run as the owner (README): the superuser connects and takes the owner's role.
        owner_url = base.update_query_dict({"options": f"-c role={owner_role}"})
        app_url = base.set(username=app_role, password=env["EDIARY_DB_PASSWORD"])
        yield (
            owner_url.render_as_string(hide_password=False),
            app_url.render_as_string(hide_password=False),
            app_role,
        )
    finally:
        engine = create_engine(pg_server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{app_role}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{owner_role}"'))
        engine.dispose()


def test_the_application_role_cannot_change_the_schema(database: tuple[str, str, str]) -> None:
    _owner_url, app_url, _ = database
    engine = create_engine(app_url)
    try:
        with engine.connect() as connection, pytest.raises(Exception, match="permission denied"):
            connection.execute(text("CREATE TABLE intruder (id int)"))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def stack(
    database: tuple[str, str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    owner_url, app_url, app_role = database
    directory = tmp_path_factory.mktemp("stack")
    # The schema by migrations, as the owner role (README, step 2); then a small school in it.
    migrate = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ediary.cli import main; main()",
            "db",
            "upgrade",
            "--database-url",
            owner_url,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert migrate.returncode == 0, migrate.stderr
    seeded = realtime.seed(owner_url)
    cert, key = self_signed(directory, "127.0.0.1")
    require_tools("redis-server")
    require_root("nginx on loopback, reading its TLS key")
    require_tools("nginx")
    redis = RedisServer(directory, config_file=SERVER / "redis/ediary.conf")
    https_port = free_port()
    https = f"https://127.0.0.1:{https_port}"
    # ediary.env.example, filled in for this machine.
    environ = {
        "EDIARY_SECRET_KEY": secrets.token_urlsafe(48),
        "EDIARY_DATABASE_URL": app_url,
        "EDIARY_PROCESSES": "3",
        "EDIARY_REDIS_URL": redis.url,
        "EDIARY_RATELIMIT_STORAGE_URI": redis.url.replace("/0", "/1"),
        "EDIARY_PROXIES": "1",
        # Lower than production's 300, so that one test reaches it quickly.
        "EDIARY_LOGIN_FAILURES_PER_ADDRESS": "20",
        "EDIARY_SOCKETIO_ORIGINS": https,
        "EDIARY_SESSION_COOKIE_SECURE": "true",
        "EDIARY_DEBUG": "false",
    }

    # As the systemd template units start them: provisioning/gunicorn.conf.py, two processes for
    # people (ediary-server@) and one for kiosks (ediary-kiosk-server@).
    def config(sockets: str) -> ServerConfig:
        env = {**environ, "EDIARY_ACCESS_LOG": "-", "EDIARY_SOCKETS": sockets}
        return ServerConfig(app_url, provisioned=True, env=env, name=sockets)

    servers = ServerGroup([config("people"), config("people"), config("kiosks")], directory)
    *people, kiosks = servers
    nginx = Nginx(
        directory,
        [server.port for server in people],
        cert,
        key,
        https_port=https_port,
        kiosk_ports=[kiosks.port],
    )
    with redis, nginx, servers:
        yield Stack(
            https,
            nginx.http_port,
            cert,
            {server.port: server for server in people},
            kiosks,
            nginx.access_log,
            seeded,
            app_role,
            environ,
        )


def test_the_deploy_check_passes_on_the_running_stack(stack: Stack) -> None:
    env = {"PATH": os.environ["PATH"], **stack.environ}
    result = subprocess.run(
        [sys.executable, "-c", "from ediary.cli import main; main()", "check", "--deploy"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: safe for production (3 process(es))")


def test_plain_http_is_redirected_to_https(stack: Stack) -> None:
    response = requests.get(
        f"http://127.0.0.1:{stack.http_port}/login", allow_redirects=False, timeout=10
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://127.0.0.1/login"


def test_pages_carry_the_security_headers(stack: Stack) -> None:
    response = stack.session().get(f"{stack.https}/login", timeout=10)
    assert response.status_code == 200
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"  # once: nginx hides the application's copy
    assert "Content-Security-Policy" in headers  # the application's own
    assert "nginx/" not in headers.get("Server", "")


def test_static_files_come_from_nginx(stack: Stack) -> None:
    css = sorted((ROOT / "static").rglob("*.css"))
    assert css, "no stylesheet to fetch"
    relative = css[0].relative_to(ROOT / "static").as_posix()
    response = stack.session().get(f"{stack.https}/static/{relative}", timeout=10)
    assert response.status_code == 200
    assert response.content == css[0].read_bytes()
    assert "max-age=604800" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # inherited in the location
    # Served by nginx from the checkout: no process was asked (their access logs).
    for server in [*stack.servers.values(), stack.kiosk_server]:
        assert f"/static/{relative}" not in server.log.read_text()


def test_an_oversized_request_is_refused_with_the_sites_page(stack: Stack) -> None:
    # Over the application's limit: its own page. Over nginx's backstop: nginx's static page.
    for size, words in ((3, "Wysłane dane są za duże"), (14, "What you sent is too large")):
        response = stack.session().post(
            f"{stack.https}/login", data=b"x" * (size * 1024 * 1024), timeout=20
        )
        assert response.status_code == 413 and words in response.text


def login(stack: Stack, user_login: str) -> requests.Session:
    http = stack.session()
    page = http.get(f"{stack.https}/login", timeout=10)
    response = http.post(
        f"{stack.https}/login",
        data={
            "login": user_login,
            "password": factories.PASSWORD,
            "csrf_token": realtime.csrf_token(page.text),
        },
        headers={"Referer": f"{stack.https}/login"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.status_code
    assert all(cookie.secure for cookie in http.cookies), "a cookie without Secure"
    return http


def test_a_parent_through_nginx_receives_an_entry_written_through_the_other_process(
    stack: Stack,
) -> None:
    seeded = stack.seeded
    parent_http = login(stack, seeded.logins["parent"])
    parent = realtime.live_client(stack.https, parent_http)
    parent.sio.eio.http = parent_http  # the self-signed certificate, for the WebSocket too
    start = realtime.journal_ids(seeded.url)
    start_id = start[-1].id if start else 0
    parent.connect()
    try:
        assert parent.sio.transport() == "websocket"
        assert parent.resume(start_id)["ok"] is True
        # Which process nginx gives this client: the access log names the upstream of every
        # finished request, and sticky hashing gives one client (one address) one process.
        parent_port = single_upstream(stack)
        assert parent_port in stack.servers
        (other_port,) = set(stack.servers) - {parent_port}

        # The teacher logs in and opens the lesson through nginx (so the session and its CSRF
        # token are set as usual), then sends the roll straight to the other process. Plain HTTP
        # there: the cookie is copied without its Secure flag, which a browser would not do.
        teacher_http = login(stack, seeded.logins["teacher"])
        teacher = realtime.WebTeacher(stack.https, teacher_http, seeded.ids["lesson"])
        direct = requests.Session()
        direct.trust_env = False
        for cookie in teacher_http.cookies:
            direct.cookies.set(cookie.name, cookie.value or "")
        pupil = seeded.ids["pupil"]
        response = direct.post(
            f"{stack.servers[other_port].url}/lessons/{seeded.ids['lesson']}",
            data={
                "csrf_token": teacher.token,
                "topic": "Ułamki zwykłe",
                f"state-{pupil}": "nb",  # nieobecny: absent
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:300]

        written = [
            row
            for row in realtime.journal_ids(seeded.url, after=start_id)
            if (row.audience, row.audience_id) == ("pupil", pupil)
        ]
        assert written, "the roll wrote no event for the pupil"
        assert parent.wait(
            lambda c: {e["id"] for e in c.events} >= {r.id for r in written}, timeout=15
        ), f"received {parent.events}"
        # The other process really was the writer: its log has the POST, the parent's has not.
        assert f"/lessons/{seeded.ids['lesson']}" in stack.servers[other_port].log.read_text()
    finally:
        parent.close()
    # Now that it is closed, nginx has logged the WebSocket itself: the same process.
    assert single_upstream(stack, "transport=websocket") == parent_port


def upstreams(stack: Stack, marker: str = "") -> set[int]:
    """The processes that served the clients of 127.0.0.1 (the log starts with the address)."""
    ports = set()
    for line in stack.access_log.read_text().splitlines():
        found = re.search(r"upstream=127\.0\.0\.1:(\d+)", line)
        if found and marker in line and line.startswith("127.0.0.1 "):
            ports.add(int(found.group(1)))
    return ports


def single_upstream(stack: Stack, marker: str = "", timeout: float = 10) -> int:
    """The one process that served the clients of 127.0.0.1.

    nginx writes a request's line when the request ends, and a WebSocket's only once nginx has
    seen its connection close, which may be a moment after the client's `close()` returned: so
    the first line is waited for (up to `timeout`), and then every line must name one process.
    """
    deadline = time.monotonic() + timeout
    ports = upstreams(stack, marker)
    while not ports and time.monotonic() < deadline:
        time.sleep(0.05)
        ports = upstreams(stack, marker)
    assert len(ports) == 1, f"requests of one client went to {ports}"
    return ports.pop()


class FromAddress(requests.adapters.HTTPAdapter):
    """Connections that leave from one loopback address (Linux routes 127.0.0.0/8 to lo): a
    client elsewhere on the network, as nginx sees it."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def try_login(http: requests.Session, stack: Stack, user_login: str, password: str) -> int:
    page = http.get(f"{stack.https}/login", timeout=10)
    return http.post(
        f"{stack.https}/login",
        data={
            "login": user_login,
            "password": password,
            "csrf_token": realtime.csrf_token(page.text),
        },
        headers={"Referer": f"{stack.https}/login"},
        allow_redirects=False,
        timeout=10,
    ).status_code


def test_behind_nginx_failed_logins_count_against_each_client_address(stack: Stack) -> None:
    # EDIARY_PROXIES=1: the servers take the client's address from nginx's X-Forwarded-For.
    # Without it every client had nginx's address, and one guesser's failed logins (here 20
    # an hour) would hold up the whole district's new browsers.
    guesser = stack.session()
    guesser.mount("https://", FromAddress("127.0.0.2"))
    for n in range(20):
        # A forged X-Forwarded-For of its own does not give the guesser a fresh address:
        # nginx appends the real one, and only that one is trusted.
        guesser.headers["X-Forwarded-For"] = f"10.0.0.{n}"
        assert try_login(guesser, stack, f"nobody_{n}", "wrong password here") == 401
    guesser.headers["X-Forwarded-For"] = "10.0.1.1"
    assert try_login(guesser, stack, stack.seeded.logins["parent"], factories.PASSWORD) == 429

    neighbour = stack.session()
    neighbour.mount("https://", FromAddress("127.0.0.3"))
    assert try_login(neighbour, stack, stack.seeded.logins["parent"], factories.PASSWORD) == 302


def test_through_nginx_a_kiosk_reaches_the_kiosks_process_and_a_parent_does_not(
    stack: Stack,
) -> None:
    """The kiosk agent's path goes to the kiosks' process, which lets the kiosk in; the same
    kiosk on the people's path is refused there; a parent's socket never reaches the kiosks'."""
    seeded = stack.seeded
    with realtime.bound_to(seeded.url):
        kiosk = db.session.get_one(Kiosk, seeded.ids["kiosk"])
        code = load_enrollment_code(issue_enrollment_code(factories.SYSTEM, kiosk))
        assert code is not None
        _kiosk, secret = enroll_kiosk(factories.SYSTEM, code, utcnow())
        db.session.commit()

    def kiosk_refused(path: str) -> str | None:
        """Why the kiosk could not connect and read its room on `path`; None if it did."""
        http = stack.session()
        client = socketio.Client(reconnection=False, http_session=http)
        try:
            client.connect(
                stack.https,
                auth={"kiosk_id": seeded.ids["kiosk"], "secret": secret},
                transports=["websocket"],
                namespaces=["/kiosk"],
                socketio_path=path,
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError as error:
            return f"connect: {error}"
        try:
            answer = client.call("room", {}, namespace="/kiosk", timeout=10)
            return None if answer["ok"] else f"room: {answer}"
        finally:
            client.disconnect()

    # Once it failed beside the rest of the suite: the refusal and the kiosks' process's log.
    refused = kiosk_refused(KioskConfig().socketio_path)
    assert refused is None, f"{refused}\n{stack.kiosk_server.tail()}"
    assert kiosk_refused("socket.io") is not None
    kiosk_port = stack.kiosk_server.port
    deadline = time.monotonic() + 10
    while f"upstream=127.0.0.1:{kiosk_port}" not in stack.access_log.read_text():
        assert time.monotonic() < deadline, "nginx logged no request of the kiosks' process"
        time.sleep(0.05)
    for line in stack.access_log.read_text().splitlines():
        if f"upstream=127.0.0.1:{kiosk_port}" in line:
            assert "/kiosk/socket.io/" in line, line  # nothing else goes there
        elif "/kiosk/socket.io/" in line:
            raise AssertionError(f"a kiosk went to another process: {line}")
    assert "/live" not in stack.kiosk_server.log.read_text()
