"""Enrollment through the real CLI and server, and the real agent process refusing bad requests."""

from __future__ import annotations

import http.client
import json
import stat
from collections.abc import Callable

import pytest

from tests.kiosk.conftest import AgentProcess, Site
from tests.servers import free_port

pytestmark = pytest.mark.slow


def test_enrollment_code_works_once_and_the_secret_stays_private(
    site: Site, make_agent: Callable[..., AgentProcess]
) -> None:
    agent = make_agent()
    code = site.code()
    result = agent.enroll(site.server.url, code)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["enrolled"]["room"] == "12"
    saved = json.loads((agent.state_dir / "credential.json").read_text())
    assert saved["secret"] not in result.stdout + result.stderr
    assert stat.S_IMODE((agent.state_dir / "credential.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(agent.state_dir.stat().st_mode) == 0o700
    (stored,) = site.query("SELECT secret_hash FROM kiosks WHERE id = ?", site.ids["kiosk_id"])[0]
    assert saved["secret"] not in stored  # the server keeps only a digest

    again = make_agent(name="b").enroll(site.server.url, code)
    assert again.returncode == 2
    assert "nieprawidłowy" in again.stderr
    bogus = make_agent(name="c").enroll(site.server.url, "AAAAA-BBBBB")
    assert bogus.returncode == 2
    unreachable = make_agent(name="d").enroll(f"http://127.0.0.1:{free_port()}", site.code())
    assert unreachable.returncode == 3
    assert not (agent.state_dir.parent / "state-b" / "credential.json").exists()


def raw(
    agent: AgentProcess, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        return conn.getresponse().status
    finally:
        conn.close()


def test_the_local_ui_refuses_foreign_hosts_origins_and_big_bodies(
    site: Site, make_agent: Callable[..., AgentProcess]
) -> None:
    agent = make_agent()
    assert agent.enroll(site.server.url, site.code()).returncode == 0
    agent.start()
    own = f"127.0.0.1:{agent.port}"
    assert raw(agent, "GET", "/", {"Host": own}) == 200
    for host in (f"localhost:{agent.port}", "attacker.example", f"127.0.0.1:{agent.port + 1}"):
        assert raw(agent, "GET", "/", {"Host": host}) == 403
    assert raw(agent, "GET", "/", {}) in (400, 403)  # no Host at all
    login = json.dumps({"login": "anna_nowak", "password": "x"}).encode()
    json_headers = {"Host": own, "Content-Type": "application/json", "X-Kiosk-Screen": "t"}
    for origin in ("http://attacker.example", f"http://localhost:{agent.port}", "null"):
        assert raw(agent, "POST", "/api/login", {**json_headers, "Origin": origin}, login) == 403
    assert raw(agent, "POST", "/api/login", json_headers, login) == 403  # no Origin on a write
    big = json.dumps({"text": "x" * 200_000}).encode()
    assert (
        raw(agent, "POST", "/api/remark", {**json_headers, "Origin": f"http://{own}"}, big) == 413
    )
    assert raw(agent, "GET", "/", {"Host": own}) == 200  # and it keeps serving
    assert agent.process is not None and agent.process.running
