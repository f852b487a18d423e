"""The parents' "today" page on a slow phone connection: bytes, requests and load time.

Starts the real server (gunicorn + gevent) on a temporary SQLite database with the test world,
logs a parent in, then loads `/portal/<child>` cold (empty cache) in headless Chromium at a phone
viewport under emulated slow 4G (CDP Network.emulateNetworkConditions: 150 ms round trip,
1.6 Mbit/s down, 750 kbit/s up), several times, and prints per run and the median: requests,
bytes transferred (headers and bodies, uncompressed as the app server sends them), DOMContentLoaded,
the load event, and the moment the page shows "live" (the /live socket resumed).

    .venv/bin/python bench/portal_load.py [--runs 5]

Budget (issue 5): at most 100 KB in at most 6 requests. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ediary.audit.recording import Actor, Channel  # noqa: E402
from ediary.db import Base, db  # noqa: E402
from ediary.diary.operations import record_grade, submit_roll  # noqa: E402
from tests.conftest import app_bound_to  # noqa: E402
from tests.factories import PASSWORD, make_world  # noqa: E402
from tests.servers import running_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SLOW_4G = {
    "offline": False,
    "latency": 150,  # ms, added to every round trip
    "downloadThroughput": 1_600_000 / 8,  # bytes per second
    "uploadThroughput": 750_000 / 8,
}
BUDGET_BYTES = 100 * 1024
BUDGET_REQUESTS = 6


def build(url: str) -> int:
    with app_bound_to(url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world = make_world()
        teacher = Actor(world.teacher, Channel.WEB)
        for value, category in (("4+", world.test_category), ("3", world.quiz_category)):
            record_grade(
                teacher, pupil=world.pupil, subject=world.math, value=value,
                category=category, given_on=world.today,
            )  # fmt: skip
        submit_roll(teacher, world.lesson, {world.pupil.id: "nb"}, topic="Ułamki zwykłe", base=None)
        db.session.commit()
        return world.pupil.id


def one_run(browser: Browser, base: str, pupil_id: int) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 375, "height": 667}, locale="pl-PL")
    try:
        form = context.request.get(f"{base}/login").text()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
        assert token is not None
        context.request.post(
            f"{base}/login",
            form={"csrf_token": token.group(1), "login": "maria_wisniewska", "password": PASSWORD},
            max_redirects=0,
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
        finished = []
        page.on("requestfinished", lambda request: finished.append(request))
        started = time.perf_counter()
        page.goto(f"{base}/portal/{pupil_id}", wait_until="load")
        page.wait_for_selector('#live-status[data-state="live"]', timeout=30_000)
        live_ms = (time.perf_counter() - started) * 1000
        timing = page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }"
        )
        total = 0
        for request in finished:
            sizes = request.sizes()
            total += sizes["requestHeadersSize"] + sizes["responseHeadersSize"]
            total += sizes["responseBodySize"]
        return {
            "requests": len(finished),
            "kb": total / 1024,
            "dcl_ms": timing["dcl"],
            "load_ms": timing["load"],
            "live_ms": live_ms,
        }
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = max(1, min(parser.parse_args().runs, 20))
    with tempfile.TemporaryDirectory(prefix="ediary-portal-bench-") as directory:
        url = f"sqlite:///{Path(directory) / 'ediary.db'}"
        pupil_id = build(url)
        with running_server(url, Path(directory)) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            results = [one_run(browser, server.url, pupil_id) for _ in range(runs)]
            browser.close()
    print("parents' today page, cold, phone 375x667, slow 4G (150 ms RTT, 1.6 Mbit/s down)")
    print(f"{'run':>4} {'requests':>8} {'KB':>7} {'DCL ms':>8} {'load ms':>8} {'live ms':>8}")
    for n, r in enumerate(results, 1):
        print(
            f"{n:>4} {r['requests']:>8.0f} {r['kb']:>7.1f} {r['dcl_ms']:>8.0f} "
            f"{r['load_ms']:>8.0f} {r['live_ms']:>8.0f}"
        )
    median = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(
        f"{'med':>4} {median['requests']:>8.0f} {median['kb']:>7.1f} {median['dcl_ms']:>8.0f} "
        f"{median['load_ms']:>8.0f} {median['live_ms']:>8.0f}"
    )
    ok = median["kb"] <= BUDGET_BYTES / 1024 and median["requests"] <= BUDGET_REQUESTS
    verdict = "met" if ok else "EXCEEDED"
    print(f"budget {BUDGET_BYTES // 1024} KB in {BUDGET_REQUESTS} requests: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
