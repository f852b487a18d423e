"""The gmina's 8:15 board: what computing it costs, and how soon a roll reaches it.

    python -m bench.board [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

On the PostgreSQL server of `--admin-url` (throwaway databases, dropped at the end), for a gmina
of 10 and one of 100 schools (bench/board_world.py: 12 classes of 22 pupils a school, 7 lessons
a day per class, `--days` school days of full rolls behind the morning): the board computed at
9:10 of a school day (`ediary.district.board.board`, each run in a fresh session), median and
worst of `--runs`, with the number of SQL statements. Then, for the 10 schools, the way a
district administrator sees it: a real server process (gunicorn + gevent, Redis as the doorbell),
the administrator's `/live` socket, a roll committed here (as a kiosk's would be) and the time
until the `board` signal arrives and until the board's figures read over HTTP show the roll.

Targets (issue 16): ≤ 100 ms for 10 schools; an update within 2 s of a roll. Figures only:
nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import socketio
from flask import Flask
from sqlalchemy import event

from bench.board_world import PASSWORD, WARSAW, Gmina, build
from ediary import create_app
from ediary.audit.recording import Actor, Channel
from ediary.config import Config
from ediary.db import Base, db
from ediary.diary.operations import submit_roll
from ediary.district.board import board
from ediary.people.models import User
from ediary.schools.models import District
from ediary.timetable.models import Lesson
from tests.servers import (
    CHEAP_HASHING,
    RedisServer,
    drop_pg_database,
    make_pg_database,
    running_server,
)

ADMIN_URL = os.environ.get(
    "EDIARY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _app(url: str, redis_url: str | None = None) -> Flask:
    return create_app(
        Config(
            DATABASE_URL=url,
            REDIS_URL=redis_url,
            SECRET_KEY="bench",  # noqa: S106 - a throwaway benchmark's app
            ARGON2_TIME_COST=1,
            ARGON2_MEMORY_KIB=8,
            ARGON2_PARALLELISM=1,
        )
    )


@contextmanager
def scratch(admin_url: str) -> Iterator[str]:
    url = make_pg_database(admin_url, prefix="ediary_board")
    try:
        yield url
    finally:
        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
        drop_pg_database(admin_url, url)


def morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 10), WARSAW).astimezone(dt.UTC)


def measure(app: Flask, gmina: Gmina, runs: int) -> dict[str, Any]:
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    timings = []
    with app.app_context():
        assert db.engine is not None
        event.listen(db.engine, "before_cursor_execute", count)
        for run in range(runs + 1):
            db.session.remove()
            statements = 0
            started = time.perf_counter()
            district = db.session.get(District, gmina.district_id)
            assert district is not None
            result = board(district, morning(gmina.day))
            elapsed = (time.perf_counter() - started) * 1000
            if run:  # the first run warms the caches
                timings.append(elapsed)
        event.remove(db.engine, "before_cursor_execute", count)
        missing = result.total("missing")
    return {
        "median_ms": statistics.median(timings),
        "worst_ms": max(timings),
        "statements": statements,
        "schools": len(result.schools),
        "lessons_now": result.total("running"),
        "missing_now": missing,
    }


def live_update(url: str, gmina: Gmina, rolls: int) -> list[tuple[float, float]]:
    """(ms until the board signal, ms until the figures show it) for `rolls` rolls."""
    out: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        redis = RedisServer(Path(folder))
        redis.start()
        try:
            hashing = CHEAP_HASHING  # the logins verify a cheap hash, as the seed wrote
            with running_server(
                url,
                Path(folder),
                EDIARY_REDIS_URL=redis.url,
                EDIARY_ARGON2_TIME_COST=hashing["EDIARY_ARGON2_TIME_COST"],
                EDIARY_ARGON2_MEMORY_KIB=hashing["EDIARY_ARGON2_MEMORY_KIB"],
                EDIARY_ARGON2_PARALLELISM=hashing["EDIARY_ARGON2_PARALLELISM"],
            ) as server:
                out = _rolls(server.url, url, redis.url, gmina, rolls)
        finally:
            redis.stop()
    return out


def _rolls(
    base: str, url: str, redis_url: str, gmina: Gmina, rolls: int
) -> list[tuple[float, float]]:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    http.post(
        f"{base}/login",
        data={"login": gmina.admin_login, "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    table = f"{base}/districts/{gmina.district_id}/board/table"
    heard = threading.Event()
    sio = socketio.Client(reconnection=False)
    sio.on("board", lambda _message: heard.set(), namespace="/live")
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    sio.connect(base, headers={"Cookie": cookie}, transports=["websocket"], namespaces=["/live"])
    sio.call("resume", {"last_id": None}, namespace="/live", timeout=15)
    writer = _app(url, redis_url)
    out = []
    try:
        for lesson_id in gmina.open_lessons[:rolls]:
            heard.clear()
            with writer.app_context():
                lesson = db.session.get(Lesson, lesson_id)
                assert lesson is not None
                teacher = db.session.get(User, lesson.teacher_id)
                started = time.perf_counter()
                # The whole class present: the roll a kiosk sends, through the same operation.
                submit_roll(Actor(teacher, Channel.KIOSK), lesson, {}, base=None)
                db.session.commit()
                committed = time.perf_counter()
                db.session.remove()
            heard.wait(10)
            signal = (time.perf_counter() - committed) * 1000
            http.get(table, timeout=10)  # what board.js does on the signal
            shown = (time.perf_counter() - started) * 1000
            out.append((signal, shown))
    finally:
        sio.disconnect()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--days", type=int, default=5, help="school days of rolls behind the day")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rolls", type=int, default=5)
    parser.add_argument("--sizes", default="10,100")
    args = parser.parse_args()
    day = dt.datetime.now(WARSAW).date()
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    for size in [int(s) for s in args.sizes.split(",")]:
        with scratch(args.admin_url) as url:
            app = _app(url)
            with app.app_context():
                assert db.engine is not None
                Base.metadata.create_all(db.engine)
                started = time.perf_counter()
                gmina = build(size, day, args.days, f"b{size}")
                built = time.perf_counter() - started
            figures = measure(app, gmina, args.runs)
            print(
                f"board, {size} schools on PostgreSQL: median {figures['median_ms']:.1f} ms, "
                f"worst {figures['worst_ms']:.1f} ms, {figures['statements']} SQL statements "
                f"({figures['lessons_now']} lessons now, {figures['missing_now']} rolls missing; "
                f"seeded in {built:.0f} s, {args.days} days of rolls; load average "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
                flush=True,
            )
            if size == 10 and args.rolls:
                updates = live_update(url, gmina, args.rolls)
                signals = [s for s, _ in updates]
                shown = [s for _, s in updates]
                print(
                    f"live update, {len(updates)} rolls: board signal "
                    f"{statistics.median(signals):.0f} ms after the commit (worst "
                    f"{max(signals):.0f}); figures read again {statistics.median(shown):.0f} ms "
                    f"after the roll began (worst {max(shown):.0f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
