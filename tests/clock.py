"""The clock of the in-process tests: pinned, so that the suite passes on any date.

Every in-process test runs with "now" pinned (time-machine, ticking from there) at one ordinary
instant, `DEFAULT`: a Wednesday morning in term time, after the factories' first lessons began.
A test marked `calendar` runs once at each instant of `SWEEP` instead: the dates and hours where
date-naive code breaks. Tests that start real server processes (`slow`, `browser`) or read data
that one made (`real_clock`) cannot be pinned, since another process reads the real clock: they
build their data relative to the real now.

The instants are given in Warsaw time and handed to time-machine in UTC, so the process's own
time zone (TZ) is left alone, as a server's would be.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

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

UNPINNED_MARKERS = ("slow", "browser", "real_clock")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("calendar") and "clock" in metafunc.fixturenames:
        metafunc.parametrize("clock", SWEEP, ids=[i.name for i in SWEEP], indirect=True)


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[Instant | None]:
    """The instant this test runs at (None: the real clock). `time_machine.shift(...)` or
    `time_machine.move_to(...)` moves it on within a test."""
    if any(request.node.get_closest_marker(name) for name in UNPINNED_MARKERS):
        yield None
        return
    instant: Instant = getattr(request, "param", DEFAULT)
    machine = request.getfixturevalue("time_machine")
    machine.move_to(instant.utc, tick=True)
    yield instant
