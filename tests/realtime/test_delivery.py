"""Delivery after commit, declared revocations, the writers' order and retention, in process."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from ediary import bulk
from ediary import db as ediary_db
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db, utcnow
from ediary.diary.operations import record_grade, submit_roll
from ediary.extensions import socketio
from ediary.journal.models import JournalEvent
from ediary.kiosks.models import ProcessedSubmission
from ediary.kiosks.operations import revoke_kiosk
from ediary.notifications.models import NotificationPreference, OutgoingMessage
from ediary.people.models import User
from ediary.people.operations import disable_user, end_sessions, set_password
from ediary.realtime import delivery
from ediary.realtime.controls import ACCESS, KIOSK_REVOKED, SESSIONS, Control
from ediary.realtime.doorbell import PEER_SECONDS, Peers, Ring, encode, parse
from ediary.realtime.queries import journal_head, oldest_kept_id
from ediary.realtime.relay import Relay, pump_engine
from ediary.realtime.retention import prune_journal
from ediary.schools.operations import (
    add_to_group,
    create_district,
    link_guardian,
    move_pupil,
    unlink_guardian,
)
from tests.contacts.helpers import verified_contacts
from tests.factories import SYSTEM, World


def _teacher(world: World) -> Actor:
    return Actor(world.teacher, Channel.WEB)


def test_a_commit_rings_once_with_its_newest_event(world: World, session: Any, rings: list) -> None:
    session.commit()
    rings.clear()  # the world's own commit
    submit_roll(_teacher(world), world.lesson, {world.pupil.id: "nb"}, topic="Ułamki", base=None)
    assert rings == []  # nothing before the commit
    session.commit()
    newest = session.scalar(select(JournalEvent.id).order_by(JournalEvent.id.desc()).limit(1))
    assert rings == [(newest, [])]


def test_a_rollback_rings_nothing(world: World, session: Any, rings: list) -> None:
    session.commit()
    rings.clear()
    submit_roll(_teacher(world), world.lesson, {world.pupil.id: "nb"}, base=None)
    session.rollback()
    session.commit()
    assert rings == []


def test_events_of_a_rolled_back_savepoint_are_left_out(
    world: World, session: Any, rings: list
) -> None:
    session.commit()
    rings.clear()
    before = journal_head()
    kept = record_grade(
        _teacher(world), pupil=world.pupil, subject=world.math, value="5", given_on=world.today
    )
    nested = session.begin_nested()
    record_grade(
        _teacher(world), pupil=world.pupil, subject=world.math, value="1", given_on=world.today
    )
    nested.rollback()
    session.commit()
    (kept_event,) = session.scalars(select(JournalEvent).where(JournalEvent.id > before))
    assert kept_event.payload["grade_id"] == kept.id and rings == [(kept_event.id, [])]


def test_a_write_without_events_or_revocations_rings_nothing(session: Any, rings: list) -> None:
    create_district(SYSTEM, "Gmina Cicha")
    session.commit()
    assert rings == []


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (lambda w: unlink_guardian(SYSTEM, w.parent, w.pupil), ACCESS),
        (lambda w: disable_user(SYSTEM, w.parent), SESSIONS),
        (lambda w: end_sessions(Actor(w.parent, Channel.WEB), w.parent), SESSIONS),
        (lambda w: set_password(SYSTEM, w.parent, "a brand new passphrase"), SESSIONS),
    ],
    ids=["unlink", "disable", "logout", "password"],
)
def test_the_revocations_operations_declare_ring_after_the_commit(
    world: World, session: Any, rings: list, change: Any, kind: str
) -> None:
    session.commit()
    head = journal_head()
    rings.clear()
    change(world)
    session.commit()
    assert len(rings) == 1
    newest, controls = rings[0]
    assert newest is None  # no journal event of its own
    assert controls == [
        Control(
            kind,
            world.parent.id,
            version=world.parent.session_version if kind == SESSIONS else 0,
            after=head,
        )
    ]


def test_linking_a_guardian_also_rescopes_their_sockets(
    world: World, session: Any, rings: list
) -> None:
    session.commit()
    rings.clear()
    link_guardian(SYSTEM, world.other_parent, world.classmate)
    session.commit()
    assert [c.kind for c in rings[0][1]] == [ACCESS]


def test_a_revoked_kiosk_is_cut_off_after_its_revocation_event(
    world: World, session: Any, rings: list
) -> None:
    session.commit()
    rings.clear()
    revoke_kiosk(SYSTEM, world.kiosk)
    session.commit()
    event_id = journal_head()
    assert rings == [(event_id, [Control(KIOSK_REVOKED, world.kiosk.id, after=event_id)])]


def test_the_doorbell_message_round_trips() -> None:
    control = Control(SESSIONS, 7, version=3, after=41)
    message = encode([Ring(40, []), Ring(None, [control]), Ring(42, [])], origin="a", head=39)
    assert parse(message, "b") == Ring(42, [control], origin="a", head=39)
    assert parse(message, "a") is None  # our own ring, already handled locally
    assert parse("not json", "b") is None


def test_every_live_peer_must_have_dispatched_an_id() -> None:
    peers = Peers()
    assert not peers.reached(1, now=100.0)  # not listening: it can vouch for nobody
    peers.listening(now=100.0)
    peers.heard("b", 10, now=100.5)
    # A live peer it has not heard yet may be behind: nothing is known for PEER_SECONDS.
    assert not peers.reached(10, now=100.0 + PEER_SECONDS - 0.1)
    assert peers.reached(10, now=100.0 + PEER_SECONDS)
    peers.heard("c", 12, now=103.0)
    assert peers.reached(10, now=103.2) and not peers.reached(11, now=103.2)  # b is behind
    peers.heard("b", 11, now=103.4)
    peers.heard("b", 9, now=103.5)  # an older ring overtaken by a newer one: heads never go back
    assert peers.reached(11, now=103.6)
    # c goes silent (stopped, or lost Redis): gone after PEER_SECONDS, its sockets resume elsewhere.
    peers.heard("b", 20, now=105.0)
    assert not peers.reached(20, now=103.0 + PEER_SECONDS)
    assert peers.reached(20, now=103.0 + PEER_SECONDS + 0.1)
    peers.deaf()  # this process lost Redis itself
    assert not peers.reached(1, now=105.5)


def test_delivered_is_not_said_after_the_wait(app: Flask) -> None:
    relay = Relay(app, socketio, "redis://127.0.0.1:9/0")  # not started: nothing dispatches
    started = time.monotonic()
    assert relay.wait_delivered(1, timeout=0.2) is False
    assert time.monotonic() - started >= 0.2 and relay.waiters == []
    alone = Relay(app, socketio, None)  # no Redis: one process, its own relay is enough
    alone.head = 5
    assert alone.wait_delivered(5, timeout=0.2) is True
    assert relay.wait_delivered(0, timeout=0) is False  # with Redis: peers unknown yet


def test_the_relay_s_reads_hold_no_transaction_on_postgresql(app: Flask) -> None:
    """The relay only reads: on PostgreSQL each read is its own transaction (autocommit), so a
    cycle pays no BEGIN and ROLLBACK round trips and holds nothing open between its reads."""
    assert db.engine is not None
    engine = pump_engine(db.engine, {})
    try:
        with Session(bind=engine) as reads:
            reads.scalar(select(func.count(JournalEvent.id)))
            raw = reads.connection().connection.dbapi_connection
            if engine.dialect.name != "postgresql":
                pytest.skip("SQLite: the relay's reads keep their transaction (a WAL snapshot)")
            assert raw is not None and raw.info.transaction_status == TransactionStatus.IDLE
            reads.scalar(select(func.count(JournalEvent.id)))  # and reads again, as a cycle does
            assert raw.info.transaction_status == TransactionStatus.IDLE
    finally:
        engine.dispose()


@pytest.fixture
def unwrapped(app: Flask) -> Iterator[Flask]:
    """The real engine, not the per-test transaction: two writers on two connections."""
    assert db.engine is not None
    db.session.remove()
    db.session.configure(bind=db.engine)
    yield app
    db.session.remove()


def test_writers_work_side_by_side_on_postgresql(unwrapped: Flask) -> None:
    """No lock during a transaction's work: a second writer flushes while the first is open
    (PostgreSQL). SQLite has one writer at a time: there the second waits for the first."""
    assert db.engine is not None
    postgresql = db.engine.dialect.name == "postgresql"
    first_flushed, second_done, release = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            create_district(SYSTEM, "Gmina Pierwsza")
            first_flushed.set()
            release.wait(10)
            db.session.rollback()
        except BaseException as error:  # reported below
            errors.append(error)
            first_flushed.set()
        finally:
            db.session.remove()

    def second() -> None:
        try:
            first_flushed.wait(10)
            create_district(SYSTEM, "Gmina Druga")
            second_done.set()
            db.session.rollback()
        except BaseException as error:
            errors.append(error)
        finally:
            db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_flushed.wait(10)
    if postgresql:
        assert second_done.wait(10), "a second writer waited for the first one's work"
    else:
        assert not second_done.wait(0.5), "SQLite: a second writer flushed while the first was open"
    release.set()
    assert second_done.wait(10)
    for thread in threads:
        thread.join(10)
    assert not errors


def test_retention_prunes_a_prefix_and_keeps_the_newest(world: World, session: Any) -> None:
    for value in ("1", "2", "3", "4"):
        record_grade(
            _teacher(world),
            pupil=world.pupil,
            subject=world.math,
            value=value,
            given_on=world.today,
        )
    session.commit()
    ids = list(session.scalars(select(JournalEvent.id).order_by(JournalEvent.id)))
    now = utcnow()
    assert prune_journal(days=14, now=now) == 0
    assert prune_journal(days=0, now=now + dt.timedelta(days=1)) == len(ids) - 1
    assert list(session.scalars(select(JournalEvent.id))) == [ids[-1]]
    assert oldest_kept_id() == journal_head() == ids[-1]


def test_retention_never_leaves_a_hole_when_clocks_disagree(world: World, session: Any) -> None:
    grades = [
        record_grade(
            _teacher(world), pupil=world.pupil, subject=world.math, value=v, given_on=world.today
        )
        for v in ("1", "2", "3", "4")
    ]
    session.commit()
    rows = list(session.scalars(select(JournalEvent).order_by(JournalEvent.id)))
    assert len(rows) == len(grades)
    # The second event was stamped by a host whose clock ran late: older than the cutoff,
    # while the first, before it in the journal, is not.
    old = utcnow() - dt.timedelta(days=30)
    session.connection().execute(
        update(JournalEvent).where(JournalEvent.id == rows[1].id).values(at=old)
    )
    assert prune_journal(days=14) == 2  # the prefix up to it, the first row included
    kept = list(session.scalars(select(JournalEvent.id).order_by(JournalEvent.id)))
    assert kept == [r.id for r in rows[2:]]


def test_moving_a_pupil_rescopes_guardians_and_both_classes_staff(
    world: World, session: Any, rings: list
) -> None:
    session.commit()
    rings.clear()
    move_pupil(SYSTEM, world.classmate, world.class_b)
    session.commit()
    targets = {c.target for c in rings[0][1] if c.kind == ACCESS}
    # 5a: its tutor and its maths teacher; 5b: its tutor. The classmate has no guardian yet.
    assert targets == {world.tutor.id, world.teacher.id, world.other_teacher.id}


def test_joining_a_group_rescopes_the_groups_teachers(
    world: World, session: Any, rings: list
) -> None:
    from ediary.schools.models import ClassGroup
    from ediary.timetable.operations import assign_teacher
    from tests.factories import _add, make_subject

    english = make_subject(world.school, "język angielski", "ang")
    group = ClassGroup(school_id=world.school.id, class_id=world.class_b.id, name="ang. gr. 1")
    _add(SYSTEM, group)
    assign_teacher(SYSTEM, world.teacher, world.class_b, english, group)
    session.commit()
    rings.clear()
    add_to_group(SYSTEM, group, world.pupil_b)
    session.commit()
    assert [(c.kind, c.target) for c in rings[0][1]] == [(ACCESS, world.teacher.id)]


def test_a_revocation_of_a_rolled_back_savepoint_rings_nothing(
    world: World, session: Any, rings: list
) -> None:
    """The unlinking was undone with its savepoint: nobody may be cut off for it."""
    session.commit()
    rings.clear()
    savepoint = session.begin_nested()
    unlink_guardian(SYSTEM, world.parent, world.pupil)
    savepoint.rollback()
    session.commit()
    assert rings == []


def _locking_insert_plan(session: Session) -> str:
    """PostgreSQL's plan (EXPLAIN: not run) for the INSERT that numbers two held rows."""
    statement, held, _processors = delivery._locking_insert(session.get_bind().dialect)
    row = {
        "at": utcnow(),
        "type": "grade.added",
        "school_id": 1,
        "audience": "pupil",
        "audience_id": 1,
        "payload": {},
    }
    given = bulk.params(held, [row, row])
    plan = session.execute(text("EXPLAIN " + statement.text), given)
    return "\n".join(line for (line,) in plan)


def test_the_writers_lock_is_taken_at_the_commit_only(world: World, session: Any) -> None:
    """The work of a transaction, savepoints included, runs without the journal's lock and
    writes no journal row; its commit takes the lock, then inserts the rows (their ids)."""
    assert db.engine is not None
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time anyway")
    session.commit()
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        before = journal_head()
        record_grade(
            _teacher(world), pupil=world.pupil, subject=world.math, value="5", given_on=world.today
        )
        savepoint = session.begin_nested()
        record_grade(
            _teacher(world), pupil=world.pupil, subject=world.math, value="1", given_on=world.today
        )
        savepoint.rollback()
        work = list(sent)
        assert any("INSERT INTO grades" in s for s in work)  # with its history on PostgreSQL
        assert not any("pg_advisory" in s or s.startswith("INSERT INTO journal") for s in work)
        session.commit()
        commit = sent[len(work) :]
        (journal,) = [s for s in commit if s.startswith("INSERT INTO journal")]
        (locking,) = [s for s in commit if "pg_advisory_xact_lock" in s]
        assert locking == journal  # the INSERT takes the lock itself, before its rows get ids
        plan = _locking_insert_plan(session)
        # PostgreSQL takes the lock once, before it reads the first row to insert.
        assert plan.index("One-Time Filter") < plan.index("Function Scan"), plan
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    (row,) = session.scalars(select(JournalEvent).where(JournalEvent.id > before))
    assert row.payload["value"] == "5"


def test_under_the_writers_lock_the_round_trips_do_not_yield(
    world: World, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the lock is granted, the commit's round trips wait in psycopg's C wait (poll(2),
    which gevent does not make cooperative): the process's other greenlets run their work
    after this commit, not inside its hold of the lock every writer waits for. Waiting for the
    lock yields, and so does everything after the commit or a rollback, or a connection back
    in the pool."""
    assert db.engine is not None
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time anyway")
    session.commit()
    blocking: list[int] = []
    real = ediary_db._blocking_wait
    assert real is not None  # psycopg's C module is installed (psycopg[binary])

    def counted(*args: Any, **kwargs: Any) -> Any:
        blocking.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ediary_db, "_blocking_wait", counted)
    # Each statement: its first words, whether its wait was exclusive, and how many C waits had
    # been made once it returned.
    sent: list[tuple[str, bool, int]] = []

    def note(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        exclusive = conn.connection.dbapi_connection.exclusive
        sent.append((" ".join(statement.split()[:3]), exclusive, -1))

    def returned(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words, exclusive, _ = sent[-1]
        if "pg_advisory_xact_lock" in statement:
            words = "the lock: " + words
        sent[-1] = (words, exclusive, len(blocking))

    event.listen(db.engine, "before_cursor_execute", note)
    event.listen(db.engine, "after_cursor_execute", returned)
    try:
        record_grade(
            _teacher(world), pupil=world.pupil, subject=world.math, value="5", given_on=world.today
        )
        session.commit()
        session.scalar(select(func.count(JournalEvent.id)))  # after the commit
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        event.remove(db.engine, "after_cursor_execute", returned)
    lock = next(n for n, (s, _exclusive, _c) in enumerate(sent) if s.startswith("the lock: "))
    # The journal's INSERT takes the lock: it and the work before it yield while they wait.
    assert sent[lock] == ("the lock: INSERT INTO journal", False, 0)
    assert not any(exclusive for _s, exclusive, _c in sent[:lock])
    # Once the lock is held, the commit's waits are psycopg's C wait (its COMMIT, or here the
    # test's savepoint's RELEASE), and not after it.
    assert blocking
    assert sent[-1][:2] == ("SELECT count(journal.id) AS", False)
    # A rollback releases the lock: the waits yield again.
    delivery._take_writers_lock(db.session())
    raw = session.connection().connection.dbapi_connection
    assert raw.exclusive is True
    session.rollback()
    assert raw.exclusive is False
    # Whatever happened, a connection back in the pool yields for its next user.
    with db.engine.connect() as connection:
        pooled = connection.connection.dbapi_connection
        ediary_db.set_exclusive(pooled, True)
    assert pooled.exclusive is False


@operation
def _wants_grades_by_email(actor: Actor, user: User) -> None:
    db.session.add(NotificationPreference(user_id=user.id, email=True, grade=True))
    verified_contacts(user, email=f"{user.login}@szkola.example")


def test_under_the_writers_lock_the_commit_only_inserts(
    world: World, session: Any, statements: list[str]
) -> None:
    """Who is told of an event, and how, is read before the commit takes the journal's lock:
    under it the commit only writes (the journal rows, their messages), then COMMITs. The
    message still names its event's id, given under the lock."""
    assert db.engine is not None
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time anyway")
    _wants_grades_by_email(SYSTEM, world.parent)
    session.commit()
    statements.clear()
    record_grade(
        _teacher(world), pupil=world.pupil, subject=world.math, value="4", given_on=world.today
    )
    session.commit()
    sent = [" ".join(statement.split()) for statement in statements]
    lock = next(n for n, s in enumerate(sent) if "pg_advisory_xact_lock" in s)
    before = sent[:lock]
    under = [s for s in sent[lock:] if "SAVEPOINT" not in s]  # the test's outer transaction
    assert any("notification_preferences" in s for s in before)  # planned before the lock
    assert [s.split()[0] for s in under] == ["INSERT", "INSERT"], under
    assert under[0].startswith("INSERT INTO journal")  # it takes the lock
    assert under[1].startswith("INSERT INTO outgoing_messages")
    (grade_event,) = session.scalars(
        select(JournalEvent).where(JournalEvent.type == "grade.added").order_by(JournalEvent.id)
    ).all()[-1:]
    (message,) = session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.user_id == world.parent.id)
    )
    assert message.event_id == grade_event.id
    assert message.topic == "grade"


def test_an_event_published_under_the_lock_is_flushed_with_its_messages(
    world: World, session: Any, rings: list
) -> None:
    """The fallback of `hold_events`: a journal row published once the commit holds the lock
    (no step of the commit publishes one today) is written by its flush, not held, and still
    gets its messages (`enqueue.queue_messages`) and its ring."""
    _wants_grades_by_email(SYSTEM, world.parent)
    session.commit()
    rings.clear()
    delivery._take_writers_lock(db.session())  # as a step of the commit after `number_events`
    record_grade(
        _teacher(world), pupil=world.pupil, subject=world.math, value="4", given_on=world.today
    )
    assert delivery.held(db.session()) == []  # flushed, not held
    session.commit()
    (event,) = session.scalars(
        select(JournalEvent).where(JournalEvent.type == "grade.added").order_by(JournalEvent.id)
    ).all()[-1:]
    (message,) = session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.user_id == world.parent.id)
    )
    assert (message.event_id, message.topic) == (event.id, "grade")
    assert rings == [(event.id, [])]


@operation
def _keyed_grades(actor: Actor, world: World, key: str, values: list[str]) -> dict[str, Any]:
    """Grades, and a submission's key whose stored result names their events (as a kiosk's
    entry has it: `delivery.insert_with_ids`)."""
    session = db.session()
    before = {id(row) for row in delivery.held(session)}
    for value in values:
        record_grade(
            actor, pupil=world.pupil, subject=world.math, value=value, given_on=world.today
        )
    session.flush()  # the rows are held at their flush
    rows = [row for row in delivery.held(session) if id(row) not in before]
    stored: dict[str, Any] = {"kind": "grade", "event_ids": []}
    values_of_key = {"key": key, "kiosk_id": world.kiosk.id, "digest": "d", "result": stored}
    table = ProcessedSubmission.__table__
    with pytest.raises(ValueError, match=r"\['at'\] not given"):  # its default would not apply
        delivery.insert_with_ids(delivery.WithIds(table, values_of_key, "result", rows))  # type: ignore[arg-type]
    values_of_key["at"] = utcnow()
    delivery.insert_with_ids(delivery.WithIds(table, values_of_key, "result", rows))  # type: ignore[arg-type]
    return stored


def _grade_events_after(session: Any, before: int) -> list[int]:
    return list(
        session.scalars(
            select(JournalEvent.id).where(JournalEvent.id > before).order_by(JournalEvent.id)
        )
    )


def test_a_row_with_ids_names_its_own_rows_ids_and_no_other(world: World, session: Any) -> None:
    """A transaction's other journal rows are not the key's: before it, between two keys, or in
    a rolled-back savepoint (whose key is forgotten with them). One key is written in the
    journal's statement on PostgreSQL, two after it; each the same."""
    session.commit()
    for keys in (["alone"], ["first", "second"]):
        before = journal_head()
        teacher = _teacher(world)
        record_grade(
            teacher, pupil=world.pupil, subject=world.math, value="3", given_on=world.today
        )
        stored = [_keyed_grades(teacher, world, keys[0], ["5", "4"])]
        nested = session.begin_nested()
        _keyed_grades(teacher, world, "rolled back", ["1"])
        nested.rollback()
        if len(keys) == 2:
            record_grade(
                teacher, pupil=world.pupil, subject=world.math, value="2", given_on=world.today
            )
            stored.append(_keyed_grades(teacher, world, keys[1], ["6"]))
        session.commit()
        ids = _grade_events_after(session, before)
        named = [ids[1:3], ids[4:5]][: len(keys)]
        assert [result["event_ids"] for result in stored] == named
        written = [session.get(ProcessedSubmission, key).result["event_ids"] for key in keys]
        assert written == named
        assert session.get(ProcessedSubmission, "rolled back") is None
