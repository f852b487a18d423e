"""The drill's figures of what the components use: CPU per phase and memory per socket (plain
functions, kept out of __main__, which monkey-patches on import)."""

from __future__ import annotations

import os
from typing import Any


def cpu_use(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, Any]:
    """CPU seconds of each component over a phase, and as a percentage of one core: the one
    nearest its limit saturated first (a server process has one worker, so 100 % is its limit;
    the harness's clients run in its own process and its crowd processes, summed here)."""
    # A process that died meanwhile took its CPU time with it (kill9): no figure, not a wrong one.
    used: dict[str, float | None] = {
        kind: round(after[kind] - before.get(kind, 0.0), 1)
        if after[kind] >= before.get(kind, 0.0)
        else None
        for kind in after
    }
    return {
        "cpu_s": used,
        "cpu_pct_of_core": {
            kind: None if v is None else round(100 * v / wall, 1) for kind, v in used.items()
        },
        "load_after": round(os.getloadavg()[0], 2),
    }


def memory_per_socket(
    before: dict[str, int], after: dict[str, int], *, parents: int, kiosks: int, split: bool
) -> dict[str, Any]:
    """The server workers' growth in resident memory once every client connected, per socket."""
    grown = {kind: after[kind] - before.get(kind, 0) for kind in after}
    figures: dict[str, Any] = {"rss_mib": {k: round(v / 1024, 1) for k, v in after.items()}}
    if split:
        figures["people_kib_per_parent_socket"] = round(grown["people"] / max(1, parents), 1)
        figures["kiosks_kib_per_kiosk_socket"] = round(grown["kiosks"] / max(1, kiosks), 1)
    else:
        figures["server_kib_per_socket"] = round(grown["all"] / max(1, parents + kiosks), 1)
    figures["nginx_kib_per_socket"] = round(grown["nginx"] / max(1, parents + kiosks), 1)
    return figures
