"""The clock of the tests: pinned, so that the suite passes on any date and at any hour.

Every in-process test runs with "now" pinned (time-machine, ticking from there) at one ordinary
instant, `DEFAULT`: a Wednesday morning in term time, after the factories' first lessons began.
A test marked `calendar` runs once at each instant of `SWEEP` instead: the dates and hours where
date-naive code breaks.

Tests that start real processes (`slow`, `browser`) or read data that one made (`shared_clock`)
run on the suite's shared clock instead (`share_the_clock`): `DEFAULT` at the session's start,
ticking in real time, in the test's process and in every Python process a test starts (servers,
kiosk agents, commands: tests/shared_clock/sitecustomize.py), so that they agree on "now". Before,
they read the real clock, and a run that passed midnight in Warsaw failed: a module's world,
built before midnight for "today", was checked after it.

The instants are given in Warsaw time and handed to time-machine in UTC, so the process's own
time zone (TZ) is left alone, as a server's would be.
"""

from __future__ import annotations

import datetime as dt
import os
import runpy
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.shared_clock.sitecustomize import OFFSET_VARIABLE

WARSAW = ZoneInfo("Europe/Warsaw")


@dataclass(frozen=True)
class Instant:
    name: str
    at: dt.datetime  # aware, Warsaw time

    @property
    def utc(self) -> dt.datetime:
        return self.at.astimezone(dt.UTC)

    @property
    def local(self) -> dt.datetime:
        return self.at.astimezone(WARSAW)


def warsaw(
    year: int, month: int, day: int, hour: int, minute: int, second: int = 0, *, fold: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=WARSAW, fold=fold)


DEFAULT = Instant("default", warsaw(2026, 11, 18, 10, 30))

# Each instant is a few seconds before or after the edge it is about: time ticks on from there,
# and a test takes a few seconds at most.
SWEEP = (
    Instant("1st", warsaw(2026, 12, 1, 10, 30)),
    Instant("9th", warsaw(2026, 12, 9, 10, 30)),
    Instant("new-years-eve-23.59", warsaw(2026, 12, 31, 23, 59, 30)),
    Instant("new-year-00.00", warsaw(2027, 1, 1, 0, 0, 30)),
    Instant("29-february", warsaw(2028, 2, 29, 10, 30)),
    # 28 March 2027: at 02:00 CET the clocks jump to 03:00 CEST (01:00 UTC).
    Instant("dst-spring-forward", warsaw(2027, 3, 28, 3, 0, 30)),
    # 25 October 2026: 02:00-03:00 happens twice, first in CEST (00:xx UTC), then in CET (01:xx).
    Instant("dst-02.30-first", warsaw(2026, 10, 25, 2, 30, fold=0)),
    Instant("dst-02.30-again", warsaw(2026, 10, 25, 2, 30, fold=1)),
    Instant("school-year-first-day", warsaw(2026, 9, 1, 10, 30)),
    # The factories' school year ends on 26 June (tests/factories.py, school_year_for).
    Instant("school-year-last-day", warsaw(2027, 6, 26, 10, 30)),
    Instant("saturday", warsaw(2026, 12, 5, 10, 30)),
    Instant("sunday", warsaw(2026, 12, 6, 10, 30)),
    Instant("warsaw-23.59", warsaw(2026, 11, 30, 23, 59, 30)),
    # 00:00:30 in Warsaw on 1 December is 23:00:30 UTC on 30 November.
    Instant("warsaw-00.00-utc-yesterday", warsaw(2026, 12, 1, 0, 0, 30)),
)

# On the suite's shared clock, not pinned at each test's start (see the module's docstring).
SHARED_CLOCK_MARKERS = ("slow", "browser", "shared_clock")
SITE = Path(__file__).parent / "shared_clock"


def share_the_clock() -> None:
    """Puts this process, and every Python process started from it, on the suite's clock:
    `DEFAULT` at the session's start, ticking. The first process of a session (pytest, or
    xdist's controller) fixes the offset from the real clock; its workers and the processes
    tests start inherit it (environment), and `sitecustomize` applies it at their start-up."""
    if OFFSET_VARIABLE not in os.environ:
        os.environ[OFFSET_VARIABLE] = repr(DEFAULT.utc.timestamp() - time.time())
        path = [str(SITE), *filter(None, [os.environ.get("PYTHONPATH")])]
        os.environ["PYTHONPATH"] = os.pathsep.join(path)
    if getattr(sys.modules.get("sitecustomize"), "TRAVEL", None) is None:
        # This process began before the variable was set: it starts its clock here.
        runpy.run_path(str(SITE / "sitecustomize.py"), run_name="sitecustomize")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("calendar") and "clock" in metafunc.fixturenames:
        metafunc.parametrize("clock", SWEEP, ids=[i.name for i in SWEEP], indirect=True)


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[Instant | None]:
    """The instant this test runs at (None: the suite's shared clock). `time_machine.shift(...)`
    or `time_machine.move_to(...)` moves it on within a test."""
    if any(request.node.get_closest_marker(name) for name in SHARED_CLOCK_MARKERS):
        yield None
        return
    instant: Instant = getattr(request, "param", DEFAULT)
    machine = request.getfixturevalue("time_machine")
    machine.move_to(instant.utc, tick=True)
    yield instant
