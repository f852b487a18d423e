"""The pinned clock and the calendar sweep (tests/clock.py) can fail a date-naive test.

Two mistakes of the kind issue 11 found, run under the sweep in a separate pytest session
(pytester): each fails on exactly the instants where it is wrong, and passes on the others, so
a test marked `calendar` is green only if it holds on every date of the sweep.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest

from tests.clock import DEFAULT, SWEEP, WARSAW
from tests.shared_clock.sitecustomize import against_monotonic

pytest_plugins = ["pytester"]

NAIVE_TESTS = """
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.mark.calendar
def test_a_day_of_the_month_has_two_digits():
    assert len(str(dt.datetime.now(WARSAW).day)) == 2  # the history page's test did this


@pytest.mark.calendar
def test_todays_date_from_utc_is_the_schools():
    assert dt.datetime.now(dt.UTC).date() == dt.datetime.now(WARSAW).date()


def test_an_unmarked_test_runs_at_the_default_instant(clock):
    assert clock.name == "default" and dt.datetime.now(WARSAW).day == 18
"""

INI = """[pytest]
addopts = -p no:cacheprovider -p no:xdist -rf
markers =
    calendar: sweep
    shared_clock: the suite's clock
    slow: real servers
    browser: chromium
"""


@pytest.mark.shared_clock  # it pins its own clock, in the session it starts
def test_the_sweep_fails_date_naive_tests_on_the_dates_they_are_wrong(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makeconftest("from tests.clock import clock, pytest_generate_tests  # noqa: F401\n")
    pytester.makepyfile(test_naive=NAIVE_TESTS)
    result = pytester.runpytest_inprocess()

    single_digit = {i.name for i in SWEEP if i.local.day < 10}
    utc_yesterday = {i.name for i in SWEEP if i.utc.date() != i.local.date()}
    assert utc_yesterday == {"new-year-00.00", "warsaw-00.00-utc-yesterday"}
    assert len(single_digit) == 7  # 1st, 9th, 1 January, 1 September, 5-6 December, 1 December
    failed = {
        line.split("::", 1)[1].split(" ", 1)[0]
        for line in result.outlines
        if line.startswith("FAILED test_naive.py::")
    }
    assert failed == {f"test_a_day_of_the_month_has_two_digits[{n}]" for n in single_digit} | {
        f"test_todays_date_from_utc_is_the_schools[{n}]" for n in utc_yesterday
    }
    result.assert_outcomes(failed=len(failed), passed=2 * len(SWEEP) + 1 - len(failed))


def test_the_sweep_covers_the_dates_the_issue_names() -> None:
    local = {i.name: i.local for i in SWEEP}
    assert {1, 9} <= {at.day for at in local.values()}
    assert (local["new-years-eve-23.59"].date(), local["new-year-00.00"].date()) == (
        dt.date(2026, 12, 31),
        dt.date(2027, 1, 1),
    )
    assert dt.date(2028, 2, 29) in {at.date() for at in local.values()}
    # Both DST changes: the hour skipped in spring, and the hour that happens twice in autumn.
    assert local["dst-spring-forward"].utcoffset() == dt.timedelta(hours=2)
    assert local["dst-spring-forward"].replace(hour=1, minute=59).utcoffset() == dt.timedelta(
        hours=1
    )
    first, again = local["dst-02.30-first"], local["dst-02.30-again"]
    assert first.strftime("%H:%M") == again.strftime("%H:%M") == "02:30"
    assert again.astimezone(dt.UTC) - first.astimezone(dt.UTC) == dt.timedelta(hours=1)
    assert {5, 6} <= {at.weekday() for at in local.values()}  # a Saturday and a Sunday
    assert {(9, 1), (6, 26)} <= {(at.month, at.day) for at in local.values()}
    late = local["warsaw-00.00-utc-yesterday"]
    assert late.hour == 0 and late.astimezone(dt.UTC).date() < late.date()
    assert DEFAULT.at.tzinfo is WARSAW and DEFAULT.local.weekday() == 2  # a Wednesday


NOW_IN_A_CHILD = "import datetime as dt; print(dt.datetime.now(dt.UTC).isoformat())"


@pytest.mark.shared_clock
def test_a_process_a_test_starts_reads_the_suites_clock() -> None:
    """A server, a kiosk agent or a command started by a test agrees with the test on "now":
    both are on the suite's shared clock (`DEFAULT` at the session's start, ticking), not the
    real date, so a world built for "today" is still today when the process reads it."""
    child = subprocess.run(
        [sys.executable, "-c", NOW_IN_A_CHILD], capture_output=True, text=True, check=True
    )
    theirs = dt.datetime.fromisoformat(child.stdout.strip())
    ours = dt.datetime.now(dt.UTC)
    assert abs(theirs - ours) < dt.timedelta(seconds=30)
    # The suite takes minutes, not the hours to the next day from 10:30.
    assert theirs.astimezone(WARSAW).date() == DEFAULT.local.date()
    assert DEFAULT.utc <= ours < DEFAULT.utc + dt.timedelta(hours=13)


CLOCK_LESS_MONOTONIC = (
    "import time; from tests.shared_clock.sitecustomize import against_monotonic;"
    " print(repr(against_monotonic(time.time)))"
)


@pytest.mark.shared_clock
def test_the_processes_a_test_starts_agree_on_now_to_the_microsecond() -> None:
    """Not only to the second: a session cookie signed by a server whose clock ran a few ms
    ahead of another's was refused by the other as signed in the future (itsdangerous), when a
    second began in between, and the teacher's login was lost (tests/realtime/test_multiprocess
    failed in 1 run of 3 beside tests/kiosk). Each process's clock less CLOCK_MONOTONIC, which
    they all share with the real clock, is the same in every one."""
    theirs = [
        float(
            subprocess.run(
                [sys.executable, "-c", CLOCK_LESS_MONOTONIC],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(4)
    ]
    readings = [*theirs, against_monotonic(time.time)]
    assert max(readings) - min(readings) < 10e-6
