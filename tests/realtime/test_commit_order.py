"""Hundreds of writers on PostgreSQL, committing out of order, against a relay reading by id.

Journal ids are handed out at the commit, under a lock held from the journal's INSERT to the
end of COMMIT (ediary/realtime/delivery.py). This drives real transactions on their own
connections, in threads, with the commit order forced away from the order of the work:
- writers held between their work (flushed) and their commit while a hundred others commit:
  nobody waits for them (no lock during the work);
- a writer held after its journal rows got their ids, before its COMMIT: the others' commits
  wait for it, so no id after its own can become visible before it;
- a hundred more with random pauses between work and commit.
Meanwhile a relay (the real `Relay.advance`, reading by "last id dispatched") polls the journal,
and its sockets are the rooms of the school's people. At the end: every committed event was
dispatched once, in id order, to exactly the people who may read its pupil, and none skipped.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ediary.access import roles
from ediary.access.scope import scope_of_user_id
from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.diary.operations import record_grade
from ediary.extensions import socketio
from ediary.journal.models import JournalEvent
from ediary.people.models import User
from ediary.realtime import delivery
from ediary.realtime.relay import Relay
from ediary.realtime.rooms import LIVE, rooms_of
from ediary.schools.models import Pupil, Subject
from tests.conftest import app_bound_to
from tests.factories import make_world

HOOK = "tests.commit_order.hook"
WORKERS = 12  # concurrent writers (each its own connection): the pool holds them all
PEOPLE = ("teacher", "tutor", "other_teacher", "parent", "other_parent", "secretary",
          "school_admin", "other_secretary", "other_school_admin", "district_admin")  # fmt: skip


def _call_hook(session: Session) -> None:
    """`before_commit`, installed after ediary's: the journal rows have their ids and the
    lock is held; a writer's test hook runs here (it records its ids, or waits)."""
    hook = session.info.get(HOOK)
    if hook is not None:
        hook(session)


@pytest.fixture
def pg_app(backend: str, fresh_database_url: Callable[[str], str]) -> Iterator[Flask]:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids are in commit order by construction")
    url = fresh_database_url("postgresql")
    with app_bound_to(url, ENGINE_OPTIONS={"pool_size": WORKERS + 4}) as bound:
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        event.listen(Session, "before_commit", _call_hook)
        try:
            yield bound
        finally:
            event.remove(Session, "before_commit", _call_hook)


class Writers:
    """Writers of one grade each, in threads with their own app context and session."""

    def __init__(self, app: Flask, pairs: list[tuple[int, int, int]], subject_id: int) -> None:
        self.app = app
        self.pairs = pairs  # (teacher id, pupil id, school id)
        self.subject_id = subject_id
        self.committed: dict[int, int] = {}  # journal id → pupil id
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()

    def write(
        self,
        n: int,
        after_work: Callable[[], None] = lambda: None,
        under_lock: Callable[[], None] = lambda: None,
    ) -> None:
        teacher_id, pupil_id, _school = self.pairs[n % len(self.pairs)]
        try:
            with self.app.app_context():
                session = db.session()
                teacher = session.get_one(User, teacher_id)
                pupil = session.get_one(Pupil, pupil_id)
                subject = session.get_one(Subject, self.subject_id)
                record_grade(
                    Actor(teacher, Channel.WEB),
                    pupil=pupil,
                    subject=subject,
                    value=str(1 + n % 6),
                    given_on=self.today,
                )
                after_work()  # the work is flushed; its journal row waits without an id

                def numbered(session: Session) -> None:
                    ids = [row.id for row in delivery.JOURNAL_ROWS.get(session)]
                    assert len(ids) == 1
                    with self.lock:
                        self.committed[ids[0]] = pupil_id  # committed just below
                    under_lock()

                session.info[HOOK] = numbered
                session.commit()
                db.session.remove()
        except BaseException as error:  # reported by the test
            with self.lock:
                self.errors.append(error)

    today: Any = None


class Reader:
    """A relay polling the journal by the last id it dispatched, with fake sockets: one per
    person, in the rooms their scope gives them."""

    def __init__(self, app: Flask, users: dict[int, User]) -> None:
        self.app = app
        self.relay = Relay(app, socketio, None)  # not started: this thread pumps it
        self.sockets: dict[tuple[str, str], list[str]] = defaultdict(list)
        for user_id in users:
            for room in rooms_of(scope_of_user_id(user_id)):
                self.sockets[(LIVE, room)].append(f"user-{user_id}")
        self.received: dict[str, list[int]] = defaultdict(list)
        self.dispatched: list[int] = []
        self.relay.local_sids = self._sids  # type: ignore[method-assign]
        self.relay.send_to_all = self._send  # type: ignore[method-assign,assignment]
        self.relay.head = db.session.scalar(select(func.max(JournalEvent.id))) or 0
        self.stop = threading.Event()
        self.reads = 0
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)

    def _sids(self, namespace: str, room: str) -> list[str]:
        return list(self.sockets.get((namespace, room), []))

    def _send(self, _namespace: str, sids: list[str], name: str, message: dict[str, Any]) -> None:
        if name == "event":  # (a district's board hears "board": no event, no pupil)
            for sid in sids:
                self.received[sid].append(message["id"])

    def _run(self) -> None:
        try:
            with self.app.app_context():
                while not self.stop.is_set():
                    self.advance()
                    time.sleep(0.002)
                self.advance()
        except BaseException as error:
            self.errors.append(error)

    def advance(self) -> None:
        before = self.relay.head
        self.relay.advance()
        self.reads += 1
        if self.relay.head != before:
            self.dispatched.append(self.relay.head)
        db.session.remove()


def test_hundreds_of_writers_committing_out_of_order_reach_a_relay_once_each(
    pg_app: Flask,
) -> None:
    world = make_world()
    db.session.commit()
    users = {getattr(world, name).id: getattr(world, name) for name in PEOPLE}
    pairs = [
        (world.teacher.id, world.pupil.id, world.school.id),
        (world.teacher.id, world.classmate.id, world.school.id),
        (world.other_teacher.id, world.sibling.id, world.school.id),
        (world.other_teacher.id, world.pupil_b.id, world.school.id),
    ]
    # Who may read each pupil (the access package's own predicate: the audience's definition).
    audience = {
        pupil_id: {
            f"user-{uid}"
            for uid, user in users.items()
            if roles.can_read_pupil(user, db.session.get_one(Pupil, pupil_id))
        }
        for _t, pupil_id, _s in pairs
    }
    assert all(audience.values()) and len({frozenset(a) for a in audience.values()}) > 1
    writers = Writers(pg_app, pairs, world.math.id)
    writers.today = world.today
    reader = Reader(pg_app, users)
    start = reader.relay.head
    db.session.remove()
    reader.thread.start()
    rng = random.Random(19)
    n = iter(range(10**6))
    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            # 1. Five writers do their work first and are held before their commit; a hundred
            #    others start after them and commit meanwhile: no lock holds them up.
            worked, release = threading.Semaphore(0), threading.Event()

            def hold_after_work() -> None:
                worked.release()
                release.wait(60)

            held = [
                pool.submit(writers.write, next(n), after_work=hold_after_work) for _ in range(5)
            ]
            for _ in range(5):
                assert worked.acquire(timeout=30)
            others = [pool.submit(writers.write, next(n)) for _ in range(100)]
            for future in others:
                future.result(timeout=120)
            assert not any(future.done() for future in held)
            assert len(writers.committed) == 100, writers.errors
            release.set()
            for future in held:
                future.result(timeout=60)
            ids_of_held = sorted(writers.committed)[-5:]
            assert len(writers.committed) == 105

            # 2. A writer holds its commit after its row got an id, under the lock: the
            #    others' numbering waits, so none of their ids can become visible before it.
            numbered, go_on = threading.Event(), threading.Event()

            def hold_under_lock() -> None:
                numbered.set()
                go_on.wait(60)

            first = pool.submit(writers.write, next(n), under_lock=hold_under_lock)
            assert numbered.wait(30)
            waiting = [pool.submit(writers.write, next(n)) for _ in range(100)]
            time.sleep(0.5)
            assert len(writers.committed) == 106
            assert not any(future.done() for future in waiting)
            go_on.set()
            first.result(timeout=60)
            for future in waiting:
                future.result(timeout=120)

            # 3. A hundred more, each pausing at random between its work and its commit.
            def pause() -> None:
                time.sleep(rng.random() * 0.02)

            mixed = [
                pool.submit(writers.write, next(n), after_work=pause, under_lock=pause)
                for _ in range(100)
            ]
            for future in mixed:
                future.result(timeout=120)
    finally:
        reader.stop.set()
        reader.thread.join(60)
    assert not writers.errors, writers.errors[:3]
    assert not reader.errors, reader.errors[:3]
    committed = writers.committed
    assert len(committed) == 306
    # The held writers of phase 1 did their work first and got their ids last.
    assert ids_of_held == sorted(committed)[100:105]
    # The reader read while the writers wrote, and saw the journal grow in many steps.
    assert len(reader.dispatched) > 10 and reader.dispatched == sorted(reader.dispatched)
    # Nothing skipped, nothing twice, nothing else: every committed id exactly once.
    with pg_app.app_context():
        in_journal = set(db.session.scalars(select(JournalEvent.id)))
    assert {i for i in in_journal if i > start} == set(committed)
    every = sorted(committed)
    for sid in {sid for sids in reader.sockets.values() for sid in sids}:
        expected = [i for i in every if sid in audience[committed[i]]]
        assert reader.received[sid] == expected, sid  # in id order, once each, exactly these
    deliveries = sum(len(audience[pupil_id]) for pupil_id in committed.values())
    assert sum(map(len, reader.received.values())) == deliveries
