"""The real agent process beats to a real server process: its version, outbox and teacher reach
the kiosk's status row; a cut network is an outage, with the entries queued meanwhile."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.kiosk.conftest import AgentProcess, Screen, Site, wait_until
from tests.kiosk.proxy import Proxy
from tests.kiosk.test_outbox_e2e import grade, login

pytestmark = pytest.mark.slow

STATUS = (
    "SELECT agent_version, outbox_depth, oldest_unsent_at, teacher_id, last_seen_at, connected"
    " FROM kiosk_statuses WHERE kiosk_id = ?"
)


def test_the_agent_beats_and_an_outage_is_recorded_with_its_queue(
    site: Site, make_agent: Callable[..., AgentProcess], proxy: Proxy
) -> None:
    agent = make_agent(proxy.url)
    agent.env["EDIARY_KIOSK_HEARTBEAT_SECONDS"] = "0.5"
    assert agent.enroll(site.server.url, site.code()).returncode == 0
    agent.start()
    screen = Screen(agent)
    kiosk_id = site.ids["kiosk_id"]
    roster = login(screen, site)

    def status() -> tuple[object, ...] | None:
        rows = site.query(STATUS, kiosk_id)
        return rows[0] if rows else None

    # The version and the teacher whose screen is open arrive within a beat or two.
    row = wait_until(lambda: (s := status()) and s[3] is not None and s)
    assert row[0] == "0.1.0" and row[1] == 0 and row[5] == 1
    first_seen = row[4]
    wait_until(lambda: (s := status()) and s[4] != first_seen)  # beats keep coming

    proxy.cut()
    pupil = roster["pupils"][3]["id"]
    grade(screen, site, pupil, "5", "queued while cut")
    grade(screen, site, pupil, "4", "queued while cut, 2")
    # The server notices the cut (the socket closes): an open outage.
    wait_until(
        lambda: site.query(
            "SELECT 1 FROM kiosk_outages WHERE kiosk_id = ? AND ended_at IS NULL", kiosk_id
        ),
        timeout=60,
    )
    proxy.restore()
    (queued,) = wait_until(
        lambda: site.query(
            "SELECT queued FROM kiosk_outages WHERE kiosk_id = ? AND queued IS NOT NULL",
            kiosk_id,
        ),
        timeout=30,
    )
    assert queued[0] in (1, 2)  # the first beat may race the sender's first entry
    wait_until(lambda: (s := status()) and s[1] == 0 and s[2] is None)
