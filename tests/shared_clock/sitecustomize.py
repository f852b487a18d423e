"""The suite's clock in every Python process a test starts (servers, kiosk agents, commands).

Python imports `sitecustomize` at start-up from its path: the test session puts this directory
on PYTHONPATH, with the offset of its clock from the real one (tests/clock.py,
`share_the_clock`), so a server or a kiosk agent started by a test reads the same "now" as the
test that checks it, whatever the real date and hour. Without the variable it does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

OFFSET_VARIABLE = "EDIARY_TEST_CLOCK_OFFSET"


def _travel() -> Any:
    offset = os.environ.get(OFFSET_VARIABLE)
    if offset is None:
        return None
    import datetime as dt
    import time

    import time_machine

    # Every process must read the same "now" to the microsecond, not only to the second: a
    # session cookie signed by a server whose clock runs 1 ms ahead of another's is refused by
    # the other as "signed in the future" (itsdangerous), when a second begins in between. So the
    # clock is set against CLOCK_MONOTONIC, which time-machine leaves alone and every process
    # shares with the real clock, and the time time-machine took to start is taken back.
    target = against_monotonic(time.time) + float(offset)  # the suite's clock - monotonic
    traveller = time_machine.travel(
        dt.datetime.fromtimestamp(time.monotonic() + target, dt.UTC), tick=True
    )
    coordinates = traveller.start()
    coordinates.shift(target - against_monotonic(time.time))
    return traveller


def against_monotonic(clock: Callable[[], float]) -> float:
    """`clock()` less `time.monotonic()`, from the closest of a few bracketed readings (a
    reading the scheduler interrupted is discarded)."""
    import time

    readings = []
    for _ in range(5):
        before = time.monotonic()
        value = clock()
        after = time.monotonic()
        readings.append((after - before, value - (before + after) / 2))
    return min(readings)[1]


# Only as Python's start-up hook (or `share_the_clock` running this file as one): imported as a
# module of the tests' package, for its constant, it must not shift the clock a second time.
TRAVEL = _travel() if __name__ == "sitecustomize" else None
