"""The database: declarative base, engine factory and the per-greenlet session.

`TransactionNotes` is what a transaction keeps for its commit (the journal rows it holds back
until then and those to announce, the revocations it declared, the writers' lock it holds),
forgotten with a savepoint that rolls back.

Written by hand instead of Flask-SQLAlchemy because the same session has to serve four callers
that are not all Flask requests (HTTP views, Socket.IO handlers under gevent, the CLI seeding a
database given by URL, and tests that wrap each test in a rolled-back transaction); a scoped
session keyed by greenlet and an explicit engine keep all four simple.
"""

from __future__ import annotations

import datetime as dt
import functools
import select
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Generic, TypeVar

import psycopg
from greenlet import getcurrent
from psycopg import waiting
from psycopg.abc import PQGen
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Enum,
    Integer,
    MetaData,
    String,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    InvalidatePoolError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import (
    DeclarativeBase,
    Session,
    SessionTransaction,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC, returns timezone-aware UTC; refuses naive datetimes (house rule: time is aware).

    SQLite keeps no offset, so the value is normalised to naive UTC on the way in and marked UTC
    on the way out; PostgreSQL gets a timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a real 64-bit id.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def unreachable(error: BaseException) -> bool:
    """Whether an exception means the database could not be reached or used for now (a retry
    may succeed), as opposed to a bug, which fails the same way every time."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout))


RV = TypeVar("RV")
# In psycopg's C module (psycopg[binary], a dependency); without it every wait yields.
_blocking_wait = getattr(waiting, "wait_c", None)
# How long one round trip under the journal's lock may keep the whole process to itself. Such a
# round trip takes a millisecond or two; one that takes longer means the database is the slow
# part (a stall, a lost network), and the process's other greenlets (the parents' sockets, the
# kiosks' acknowledgements, the pings that keep every socket open) run again while it waits.
EXCLUSIVE_SECONDS = 0.1
# What psycopg's waits raise when their timeout expires (a private name of psycopg's): the
# generator stays where it was, and another wait takes it up from there.
_WaitTimeout = psycopg.errors._WaitTimeout


class ExclusiveWaits(psycopg.Connection[Any]):
    """psycopg's connection, whose round trips can be made not to yield to the process's other
    greenlets (`exclusive`), only for the end of a commit that holds the journal's lock.

    Every writer of the district waits for that lock (realtime/delivery.py). Under gevent each
    of the holder's round trips (the journal's INSERT, the messages', the key's, COMMIT) let
    the process's other greenlets run their own work before it resumed: in `bench.run`'s herd
    a roll held the lock for 21 ms (median) instead of the 4 ms it holds alone, and the herd
    took the sum of those holds. Set by `delivery` once the lock is granted (waiting for it
    still yields), cleared at the transaction's end and whenever the connection goes back to
    the pool (`make_engine`). A round trip longer than `EXCLUSIVE_SECONDS` goes on yielding:
    a database that stalls under the lock stalls its writers, not the process's sockets."""

    exclusive = False

    # interval: psycopg's own default (its private `_WAIT_INTERVAL`), for callers that give none.
    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        if self.exclusive and _blocking_wait is not None:
            # psycopg's C wait: poll(2) itself, which gevent does not make cooperative; for
            # `EXCLUSIVE_SECONDS` at most (or the caller's shorter timeout), then cooperatively.
            bound = EXCLUSIVE_SECONDS if timeout is None else min(timeout, EXCLUSIVE_SECONDS)
            try:
                done: RV = _blocking_wait(gen, self.pgconn.socket, interval=interval, timeout=bound)
                return done
            except _WaitTimeout:
                if timeout is not None:
                    timeout -= bound
                    if timeout <= 0:
                        raise  # the caller's own timeout
        if _gevent_patched():
            return wait_ready_first(gen, self.pgconn.socket, timeout)
        return super().wait(gen, interval=interval, timeout=timeout)


def _gevent_patched() -> bool:
    """Whether gevent patched this process's `select` (a server process), where psycopg's own
    wait would be `wait_poll` over gevent's `poll`. Asked at each wait, not once: a process may
    use the database before gevent patches it (a test, a command), and the answer changes then."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("select"))


_POLL_MASKS = {
    waiting.Wait.R: select.POLLIN,
    waiting.Wait.W: select.POLLOUT,
    waiting.Wait.RW: select.POLLIN | select.POLLOUT,
}
_POLL_BAD = select.POLLERR | select.POLLHUP | select.POLLNVAL


def wait_ready_first(gen: PQGen[RV], fileno: int, timeout: float | None = None) -> RV:
    """psycopg's wait for a process patched by gevent: at each step of psycopg's generator the
    socket is first asked with a real poll(2) that does not block, and only a socket not ready
    yet is waited for in gevent's hub, where the process's other greenlets run meanwhile.

    psycopg's own choice there, `wait_poll` over gevent's `poll`, went round the hub at every
    step, ready or not: an executemany in a pipeline writes its statements and reads their
    results in dozens of steps whose socket is ready at once. A roll took 88 such steps, and
    psycopg's share of its CPU was 3.48 ms under gevent against 2.21 ms without it
    (`bench.roll_cost --by-layer`, the same code patched and not). Written by hand: psycopg
    offers no wait that yields to gevent only when it has to. `timeout` raises psycopg's wait
    timeout, as `wait_poll`'s does; psycopg's `interval`, with which it wakes the generator to
    notice a Ctrl-C, is not taken: the hub takes signals itself."""
    real_poll, in_hub = _gevent_waits()
    poller = real_poll()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        step = next(gen)
        while True:
            poller.register(fileno, _POLL_MASKS[step])  # registered again: the new mask
            events = poller.poll(0)
            if not events:
                try:
                    left = None if deadline is None else max(0.0, deadline - time.monotonic())
                    in_hub[step](fileno, left)
                except TimeoutError:
                    pass  # nothing ready before the deadline: the generator is told so
                else:
                    events = poller.poll(0)
            step = gen.send(_readiness(events))
            if deadline is not None and time.monotonic() >= deadline:
                raise _WaitTimeout("wait timeout expired")
    except StopIteration as done:
        result: RV = done.value
        return result


@functools.cache
def _gevent_waits() -> tuple[Callable[[], Any], dict[waiting.Wait, Callable[..., Any]]]:
    """The unpatched `select.poll`, and gevent's waits in the hub for each kind of step."""
    from gevent.monkey import get_original  # only in a process that gevent patched
    from gevent.socket import wait_read, wait_readwrite, wait_write

    in_hub = {
        waiting.Wait.R: wait_read,
        waiting.Wait.W: wait_write,
        waiting.Wait.RW: wait_readwrite,
    }
    return get_original("select", "poll"), in_hub


def _readiness(events: list[tuple[int, int]]) -> waiting.Ready:
    if not events:
        return waiting.Ready.NONE
    mask = events[0][1]
    ready = (waiting.Ready.R if mask & select.POLLIN else waiting.Ready.NONE) | (
        waiting.Ready.W if mask & select.POLLOUT else waiting.Ready.NONE
    )
    if not ready and mask & _POLL_BAD:
        raise psycopg.OperationalError("connection socket closed")
    return waiting.Ready(ready)


def set_exclusive(connection: Any, exclusive: bool) -> None:
    """Makes a DBAPI connection's waits exclusive (see `ExclusiveWaits`), or cooperative again."""
    if isinstance(connection, ExclusiveWaits):
        connection.exclusive = exclusive


def sql_type(column: Any, dialect: Dialect) -> str:
    """A column's type as the dialect writes it (`INTEGER`, `TIMESTAMP WITH TIME ZONE`), for
    the statements written as text (`realtime.delivery`, `audit.recording.insert_audited`)."""
    return str(column.type.dialect_impl(dialect).compile(dialect))


def cast_type(column: Any, dialect: Dialect) -> str:
    """The type to which a statement written as text casts a parameter for `column`: its own
    (`sql_type`), but a string's without its length. PostgreSQL's explicit CAST to
    `VARCHAR(n)` cuts a longer text without a word; the column itself refuses it on INSERT or
    UPDATE, as it refuses it from SQLAlchemy's own statements."""
    impl = column.type.dialect_impl(dialect)
    if isinstance(impl, TypeDecorator):
        impl = impl.impl_instance
    if isinstance(impl, String) and not (isinstance(impl, Enum) and impl.native_enum):
        return "TEXT"
    return sql_type(column, dialect)


def bind_processor(column: Any, dialect: Dialect) -> Any:
    """The column's bind processor (its type's conversion of a Python value), if any: what
    SQLAlchemy applies to a value of it, applied by such a statement itself."""
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def make_engine(url: str, **options: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **options)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> ExclusiveWaits:
        cparams.setdefault("prepare_threshold", PREPARE_AFTER)
        return ExclusiveWaits.connect(*cargs, **cparams)

    @event.listens_for(engine, "checkin")
    def _cooperative(dbapi_connection: Any, record: Any) -> None:
        set_exclusive(dbapi_connection, False)  # whatever happened, never for the next user
        record.info[_IDLE_SINCE] = time.monotonic()

    if "pool_pre_ping" not in options:
        event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


# A statement is prepared on a connection once it has run there this many times: at its second
# run, not its sixth (psycopg's default, 5). The first lesson start after a server starts runs
# its rolls on pooled connections that have run their statements a few times each; a statement
# prepared is neither parsed nor planned again. `bench.run --processes 1 --scenarios
# herd,remarks`, three pairs alternating: server CPU per roll in the herd 14.0, 15.1, 15.4 ms
# at 5 against 13.3, 12.5, 15.1 at 1, per remark 5.6, 5.9, 5.7 against 5.2, 5.8, 5.5. (Never
# preparing cost a remark a third more, bench/README.md.)
PREPARE_AFTER = 1
# A pooled connection back in use within this many seconds of its last use is not pinged.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "ediary.idle_since"


def _ping_if_idle(dialect: Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """`checkout`: pings a connection that sat in the pool for a while, as `pool_pre_ping` does
    for every one.

    Written by hand because SQLAlchemy's pre-ping has no age: it pinged at every checkout, a
    round trip of its own before every entry and every relay cycle (4 % of an entry's samples
    in a profile of `bench.roll_cost`). A connection used a moment ago is as alive as the ping
    would say. If the database restarts meanwhile, that connection's first statement fails
    as a disconnect, which fails its one request (a kiosk keeps the entry and sends it again,
    `kiosks.sockets`) and makes SQLAlchemy replace every connection of the pool opened before
    it. A failed ping replaces them the same way, and the checkout goes on with a new one."""
    idle_since = record.info.get(_IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return  # new, or used a moment ago
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        raise InvalidatePoolError(f"ping failed after idling: {error}") from error


def _configure_sqlite(engine: Engine) -> None:
    """WAL + synchronous=FULL (NORMAL may lose a committed entry at power loss) + foreign keys.

    pysqlite's own transaction handling breaks SAVEPOINT; the SQLAlchemy-documented fix is to turn
    it off and emit BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


class Database:
    """Holds the engine and a session scoped to the current greenlet (a thread without gevent)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False), scopefunc=getcurrent)

    def init_app(self, app: Any) -> None:
        self.bind(make_engine(app.config["DATABASE_URL"], **app.config.get("ENGINE_OPTIONS", {})))
        app.teardown_appcontext(self._remove)

    def bind(self, engine: Engine) -> None:
        self.engine = engine
        self.session.remove()
        self.session.configure(bind=engine)

    def _remove(self, _exc: BaseException | None = None) -> None:
        self.session.remove()


db = Database()


def session() -> Session:
    return db.session()


T = TypeVar("T")


class TransactionNotes(Generic[T]):
    """Notes one transaction keeps until it ends, in `session.info[key]`.

    Each note remembers the savepoint it was written in. When that savepoint rolls back, its
    notes go with it, as its rows did: a journal row held back for the commit or a declared
    revocation of a rolled-back savepoint never happened. When the transaction ends, every note
    goes. The two listeners that forget are `forget_savepoint` and `forget_transaction`
    (installed by `ediary.transactions`). SQLAlchemy keeps nothing per savepoint for us: hence
    by hand.
    """

    every: ClassVar[list[TransactionNotes[Any]]] = []

    def __init__(self, key: str) -> None:
        self.key = key
        TransactionNotes.every.append(self)

    def add(self, session: Session, notes: Iterable[T]) -> None:
        savepoint = session.get_nested_transaction()
        session.info.setdefault(self.key, []).extend((savepoint, note) for note in notes)

    def get(self, session: Session) -> list[T]:
        return [note for _savepoint, note in session.info.get(self.key, ())]

    def _forget_within(self, session: Session, savepoint: SessionTransaction) -> None:
        kept = [
            (where, note)
            for where, note in session.info.get(self.key, ())
            if not _within(where, savepoint)
        ]
        if kept:
            session.info[self.key] = kept
        else:
            session.info.pop(self.key, None)


def _within(where: SessionTransaction | None, savepoint: SessionTransaction) -> bool:
    """Was a note written in `savepoint`, or in a savepoint inside it (released into it)?"""
    while where is not None:
        if where is savepoint:
            return True
        where = where.parent
    return False


def forget_savepoint(session: Session, previous: SessionTransaction) -> None:
    """`after_soft_rollback`: the notes of a savepoint that rolled back."""
    if previous.nested:
        for notes in TransactionNotes.every:
            notes._forget_within(session, previous)


def forget_transaction(session: Session, transaction: SessionTransaction) -> None:
    """`after_transaction_end`: every note, once the whole transaction has ended (committed or
    rolled back; after a commit, `after_commit` has read them already)."""
    if transaction.parent is None:
        for notes in TransactionNotes.every:
            session.info.pop(notes.key, None)
