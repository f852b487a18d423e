"""The kiosk's managed Chromium policy, as setup-kiosk.sh generates it, in a real Chromium.

Two kinds of browser start, because of two traps:
- DeveloperToolsAvailability=2 forbids inspecting pages and RemoteDebuggingAllowed=false closes the
  DevTools protocol altogether, and Playwright drives Chromium through that protocol. So the
  Playwright tests run with the generated policy minus exactly those two keys, and the two keys are
  tested in their own starts of a plain Chromium, through the DevTools endpoint they must close.
- Playwright handles downloads and file choosers itself, bypassing the download and file-dialog
  policies. So downloads are tested with a plain headless Chromium and a download directory, and the
  file dialog in a Playwright-driven Chromium with no file-chooser handler, on a virtual X screen:
  headless Chromium never opens a file dialog at all, with or without the policy (measured), so
  only a browser with a screen can show the difference.

Each refusal has its control: the same start without the policy key shows the thing happening.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import websocket
from playwright.sync_api import Browser, Playwright
from playwright.sync_api import Error as PlaywrightError

from tests.provisioning.conftest import chromium_with_policy, policy_for_port, require_tools
from tests.servers import free_port, wait_for_port

pytestmark = pytest.mark.browser

PLAIN_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CDP_KEYS = ("DeveloperToolsAvailability", "RemoteDebuggingAllowed")
PAGE = b"""<!doctype html><html><head><title>agent</title></head>
<body><h1 id="ok">agent page</h1><input type="file" id="file">
<button id="pick" onclick="window.outcome = 'pending'; window.showOpenFilePicker().then(
  () => { window.outcome = 'opened'; }, (e) => { window.outcome = 'refused: ' + e.name; })"
>pick</button></body></html>"""
DOWNLOAD = b"pupils.csv: a file that must never reach a kiosk's disk\n"


@dataclass
class Site:
    """A loopback HTTP server that records the paths it was asked for."""

    port: int
    requests: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve_site() -> Iterator[Site]:
    site = Site(port=free_port())

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path == "/pupils.csv":
                body, kind = DOWNLOAD, "application/octet-stream"
                extra = {"Content-Disposition": 'attachment; filename="pupils.csv"'}
            else:
                body, kind, extra = PAGE, "text/html; charset=utf-8", {}
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", site.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def agent() -> Iterator[Site]:
    """Stands in for the kiosk agent: the one origin the policy allows."""
    with serve_site() as site:
        yield site


@pytest.fixture
def outside() -> Iterator[Site]:
    """Any other web server: the kiosk must never reach it."""
    with serve_site() as site:
        yield site


def generated_policy(agent: Site, *, without: tuple[str, ...] = ()) -> dict[str, object]:
    policy = policy_for_port(agent.port)
    for key in without:
        assert key in policy, f"the generated policy no longer sets {key}"
        del policy[key]
    return policy


# -- Playwright: URLs and chrome://policy --------------------------------------------------------


@contextmanager
def playwright_browser(
    playwright: Playwright,
    launcher: Path,
    *,
    headless: bool = True,
    env: dict[str, str | float | bool] | None = None,
) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(launcher),
        args=PLAIN_ARGS,
        headless=headless,
        env=dict(env) if env is not None else None,
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def kiosk_browser(playwright: Playwright, agent: Site, tmp_path: Path) -> Iterator[Browser]:
    policy = generated_policy(agent, without=CDP_KEYS)
    with (
        chromium_with_policy(policy, tmp_path) as launcher,
        playwright_browser(playwright, launcher) as browser,
    ):
        yield browser


def navigation_error(browser: Browser, url: str) -> str | None:
    page = browser.new_page()
    try:
        page.goto(url, timeout=10_000)
    except PlaywrightError as error:
        return str(error).splitlines()[0]
    finally:
        page.close()
    return None


def test_the_agent_page_opens(kiosk_browser: Browser, agent: Site) -> None:
    page = kiosk_browser.new_page()
    page.goto(agent.origin + "/")
    assert page.inner_text("#ok") == "agent page"


def test_a_page_outside_the_allowlist_is_blocked(kiosk_browser: Browser, outside: Site) -> None:
    error = navigation_error(kiosk_browser, outside.origin + "/")
    assert error is not None and "ERR_BLOCKED_BY_ADMINISTRATOR" in error
    assert outside.requests == [], "the blocked server was still asked"


def test_another_port_on_loopback_is_blocked(
    kiosk_browser: Browser, agent: Site, outside: Site
) -> None:
    # The allowlist is the agent's origin, not "127.0.0.1": another local service stays closed.
    assert outside.origin.startswith("http://127.0.0.1:")
    error = navigation_error(kiosk_browser, outside.origin + "/admin")
    assert error is not None and "ERR_BLOCKED_BY_ADMINISTRATOR" in error


def test_file_urls_are_blocked(kiosk_browser: Browser) -> None:
    error = navigation_error(kiosk_browser, "file:///etc/passwd")
    assert error is not None and "ERR_BLOCKED_BY_ADMINISTRATOR" in error


def test_view_source_is_blocked_even_for_the_agent(kiosk_browser: Browser, agent: Site) -> None:
    error = navigation_error(kiosk_browser, f"view-source:{agent.origin}/")
    assert error is not None and "ERR_BLOCKED_BY_ADMINISTRATOR" in error


READ_POLICY_PAGE = """() => {
  const rows = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'POLICY-ROW' && !el.hidden && el.shadowRoot) {
        const text = (selector) => {
          const node = el.shadowRoot.querySelector(selector);
          return node ? node.textContent.trim() : null;
        };
        rows.push({
          name: text('#name'),
          status: text('.policy.row .messages'),
          error: text('.errors.row .value'),
          warning: text('.warnings.row .value'),
        });
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return rows;
}"""


def policy_page(browser: Browser) -> dict[str, dict[str, str]]:
    """chrome://policy as {name: {status, error, warning}} for every policy that is set."""
    context = browser.new_context()
    page = context.new_page()
    page.goto("chrome://policy/")
    page.wait_for_function("() => document.querySelector('policy-app') !== null")
    rows: list[dict[str, str]] = []
    for _ in range(50):
        rows = page.evaluate(READ_POLICY_PAGE)
        if rows:
            break
        page.wait_for_timeout(100)
    context.close()
    return {row["name"]: row for row in rows}


def test_chrome_policy_reports_every_policy_valid(kiosk_browser: Browser, agent: Site) -> None:
    expected = generated_policy(agent, without=CDP_KEYS)
    shown = policy_page(kiosk_browser)
    assert set(shown) == set(expected), "chrome://policy shows other policies than the file sets"
    not_ok = {name: row for name, row in shown.items() if row["status"] != "OK"}
    assert not_ok == {}
    assert all(not row["error"] and not row["warning"] for row in shown.values())


def test_chrome_policy_check_catches_a_misspelt_policy(
    playwright: Playwright, agent: Site, tmp_path: Path
) -> None:
    # The control for the test above: Chromium ignores an unknown name, and the page says so.
    policy = generated_policy(agent, without=CDP_KEYS)
    policy["URLBlockList"] = ["*"]  # the old spelling is URLBlacklist, the right one URLBlocklist
    with (
        chromium_with_policy(policy, tmp_path) as launcher,
        playwright_browser(playwright, launcher) as browser,
    ):
        shown = policy_page(browser)
    assert shown["URLBlockList"]["status"] != "OK"
    assert "Unknown policy" in shown["URLBlockList"]["error"]


# -- plain Chromium: DevTools, remote debugging, downloads ---------------------------------------


@contextmanager
def plain_chromium(launcher: Path, home: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "chromium.log").open("wb")
    process = subprocess.Popen(
        [str(launcher), "--headless", *PLAIN_ARGS, f"--user-data-dir={home / 'profile'}", *args],
        env={**os.environ, "HOME": str(home), "XDG_DOWNLOAD_DIR": str(home / "Downloads")},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        log.close()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_remote_debugging_is_refused(agent: Site, tmp_path: Path) -> None:
    with chromium_with_policy(generated_policy(agent), tmp_path) as launcher:
        port = free_port()
        with plain_chromium(
            launcher, tmp_path / "home", f"--remote-debugging-port={port}", agent.origin + "/"
        ) as browser:
            assert wait_until(lambda: agent.requests != []), "Chromium never loaded the page"
            time.sleep(1.0)
            assert browser.poll() is None
            assert not port_open(port)
        log = (tmp_path / "home" / "chromium.log").read_text(errors="replace")
        assert "remote debugging is disallowed" in log


def test_remote_debugging_control_without_the_policy(agent: Site, tmp_path: Path) -> None:
    policy = generated_policy(agent, without=("RemoteDebuggingAllowed",))
    with chromium_with_policy(policy, tmp_path) as launcher:
        port = free_port()
        with plain_chromium(
            launcher, tmp_path / "home", f"--remote-debugging-port={port}", agent.origin + "/"
        ):
            wait_for_port(port, timeout=20)


def inspect_agent_page(port: int, agent: Site) -> str:
    """Asks the page for 6 * 7 over the DevTools protocol; returns the answer or the refusal."""
    deadline = time.monotonic() + 20
    while True:
        try:
            targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
        except requests.RequestException:
            targets = []
        pages = [t for t in targets if t["type"] == "page" and t["url"].startswith(agent.origin)]
        if pages or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert pages, "the agent page never showed up as a target"
    try:
        ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=5, suppress_origin=True
        )
    except websocket.WebSocketBadStatusException as refusal:
        return f"refused: {refusal}"
    try:
        ws.send(
            json.dumps(
                {
                    "id": 1,
                    "method": "Runtime.evaluate",
                    "params": {"expression": "6 * 7", "returnByValue": True},
                }
            )
        )
        return str(json.loads(ws.recv()).get("result", {}).get("result", {}).get("value"))
    finally:
        ws.close()


def test_developer_tools_cannot_inspect_the_page(agent: Site, tmp_path: Path) -> None:
    # Remote debugging is left on here so that something can try to inspect; the kiosk has neither.
    policy = generated_policy(agent, without=("RemoteDebuggingAllowed",))
    with chromium_with_policy(policy, tmp_path) as launcher:
        port = free_port()
        with plain_chromium(
            launcher, tmp_path / "home", f"--remote-debugging-port={port}", agent.origin + "/"
        ):
            wait_for_port(port, timeout=20)
            reply = inspect_agent_page(port, agent)
    assert reply.startswith("refused") and "not inspectable" in reply


def test_developer_tools_control_without_the_policy(agent: Site, tmp_path: Path) -> None:
    policy = generated_policy(agent, without=CDP_KEYS)
    with chromium_with_policy(policy, tmp_path) as launcher:
        port = free_port()
        with plain_chromium(
            launcher, tmp_path / "home", f"--remote-debugging-port={port}", agent.origin + "/"
        ):
            wait_for_port(port, timeout=20)
            assert inspect_agent_page(port, agent) == "42"


def download_attempt(policy: dict[str, object], agent: Site, tmp_path: Path) -> list[str]:
    """Opens the agent's attachment URL in a plain headless Chromium; returns what was saved."""
    home = tmp_path / "home"
    downloads = home / "Downloads"
    with (
        chromium_with_policy(policy, tmp_path) as launcher,
        plain_chromium(launcher, home, agent.origin + "/pupils.csv"),
    ):
        assert wait_until(lambda: "/pupils.csv" in agent.requests), "never fetched the file"
        # Chromium decides on the download after the response: give it time to finish one
        # (a refused download leaves nothing, not even a partial .crdownload).
        wait_until(
            lambda: (
                downloads.is_dir()
                and any(not p.name.endswith(".crdownload") for p in downloads.iterdir())
            ),
            timeout=5,
        )
        saved = sorted(p.name for p in downloads.iterdir()) if downloads.is_dir() else []
    return saved


def test_downloads_are_refused(agent: Site, tmp_path: Path) -> None:
    assert download_attempt(generated_policy(agent), agent, tmp_path) == []


def test_downloads_control_without_the_policy(agent: Site, tmp_path: Path) -> None:
    policy = generated_policy(agent, without=("DownloadRestrictions",))
    saved = download_attempt(policy, agent, tmp_path)
    assert saved == ["pupils.csv"]
    assert (tmp_path / "home" / "Downloads" / "pupils.csv").read_bytes() == DOWNLOAD


# -- a browser with a screen: the file dialog ----------------------------------------------------


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    require_tools("Xvfb")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        number = reader.readline().strip()
    try:
        assert number, "Xvfb did not report its display"
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(10)


def file_dialog_outcome(
    playwright: Playwright, policy: dict[str, object], agent: Site, tmp_path: Path, display: str
) -> str:
    env: dict[str, str | float | bool] = {**os.environ, "DISPLAY": display, "HOME": str(tmp_path)}
    with (
        chromium_with_policy(policy, tmp_path) as launcher,
        playwright_browser(playwright, launcher, headless=False, env=env) as browser,
    ):
        # No "filechooser" handler: with one, Playwright intercepts the chooser itself.
        page = browser.new_page()
        page.goto(agent.origin + "/")
        # A real click: the picker needs the user activation that a script call may lack.
        page.click("#pick")
        try:
            page.wait_for_function("() => window.outcome !== 'pending'", timeout=3000)
        except PlaywrightError:
            return "dialog open"  # still waiting for the person to choose a file
        outcome: str = page.evaluate("() => window.outcome")
    return outcome


def test_file_selection_dialogs_are_refused(
    playwright: Playwright, agent: Site, tmp_path: Path, x_display: str
) -> None:
    policy = generated_policy(agent, without=CDP_KEYS)
    outcome = file_dialog_outcome(playwright, policy, agent, tmp_path, x_display)
    assert outcome == "refused: AbortError"


def test_file_selection_dialog_control_without_the_policy(
    playwright: Playwright, agent: Site, tmp_path: Path, x_display: str
) -> None:
    policy = generated_policy(agent, without=(*CDP_KEYS, "AllowFileSelectionDialogs"))
    outcome = file_dialog_outcome(playwright, policy, agent, tmp_path, x_display)
    assert outcome == "dialog open"
