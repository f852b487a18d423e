"""The drill's own arithmetic, without a cluster: how long it waits before starting a process
again (systemd's RestartSec, read from the unit), CPU per phase and memory per socket."""

from __future__ import annotations

import pytest

from bench.district.cluster import UNIT, restart_seconds
from bench.district.figures import cpu_use, memory_per_socket


def test_a_killed_process_is_started_again_after_the_units_restart_sec() -> None:
    assert restart_seconds(UNIT.read_text()) == 2.0
    assert restart_seconds("[Service]\nRestart=always\nRestartSec=1.5s\n") == 1.5
    with pytest.raises(ValueError, match="RestartSec"):
        restart_seconds("[Service]\nRestart=always\n")


def test_cpu_of_a_phase_is_per_component_and_per_core() -> None:
    before = {"people": 10.0, "kiosks": 4.0, "postgres": 1.0}
    after = {"people": 15.0, "kiosks": 6.0, "postgres": 2.0, "nginx": 0.5}
    figures = cpu_use(before, after, wall=10.0)
    assert figures["cpu_s"] == {"people": 5.0, "kiosks": 2.0, "postgres": 1.0, "nginx": 0.5}
    assert figures["cpu_pct_of_core"] == {
        "people": 50.0,
        "kiosks": 20.0,
        "postgres": 10.0,
        "nginx": 5.0,
    }
    restarted = cpu_use({"kiosks": 4.0}, {"kiosks": 1.0}, wall=10.0)  # killed and started again
    assert restarted["cpu_s"] == {"kiosks": None} and restarted["cpu_pct_of_core"] == {
        "kiosks": None
    }


def test_memory_per_socket_is_the_growth_divided_by_each_kinds_sockets() -> None:
    before = {"people": 100_000, "kiosks": 90_000, "all": 0, "nginx": 10_000}
    after = {"people": 160_000, "kiosks": 95_000, "all": 0, "nginx": 13_000}
    figures = memory_per_socket(before, after, parents=3000, kiosks=1000, split=True)
    assert figures["people_kib_per_parent_socket"] == 20.0
    assert figures["kiosks_kib_per_kiosk_socket"] == 5.0
    assert figures["nginx_kib_per_socket"] == 0.8
    together = memory_per_socket(
        {"all": 100_000, "nginx": 0},
        {"all": 140_000, "nginx": 0},
        parents=3000,
        kiosks=1000,
        split=False,
    )
    assert together["server_kib_per_socket"] == 10.0
