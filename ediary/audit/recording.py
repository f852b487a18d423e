"""The change history required by §21 ust. 3 pkt 4: who changed what, when, through what.

Every mapped class that holds school records mixes in `Audited`. A flush that writes such a row
must happen inside a named operation (`@operation`), which names the actor; the flush then writes
one history row per changed row, with the old and the new values. A write outside an operation
raises `UnauditedWrite` and nothing is stored: no code path can change a diary row silently. So
does a journal event or a declared revocation outside an operation (`current_actor`).

The two session listeners here (`require_operation`, `write_history`) are installed, with the
others, by `ediary.transactions.install()`; an operation refuses to run in a process that has not
installed them, since its writes would leave no history.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, ParamSpec, TypeVar, cast

from sqlalchemy import (
    Connection,
    Insert,
    Table,
    TextClause,
    Update,
    bindparam,
    event,
    insert,
    inspect,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper, Session, UOWTransaction, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.interfaces import MANYTOONE

from ediary import bulk
from ediary.db import bind_processor, cast_type, db, utcnow

if TYPE_CHECKING:
    from ediary.people.models import User

P = ParamSpec("P")
R = TypeVar("R")


class Channel(enum.StrEnum):
    WEB = "web"
    KIOSK = "kiosk"
    CLI = "cli"
    SYSTEM = "system"
    IMPORT = "import"  # bulk loads (the demo seed) that write their own history rows


@dataclass(frozen=True)
class Actor:
    """Who does a write, and through which channel: every operation takes one."""

    user: User | None
    channel: Channel
    kiosk_id: int | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @classmethod
    def system(cls, channel: Channel = Channel.SYSTEM) -> Actor:
        return cls(user=None, channel=channel)


class UnauditedWrite(RuntimeError):
    """A diary row was written outside a named operation."""


class HooksMissing(RuntimeError):
    """An operation ran in a process that has not installed the transaction hooks."""


def current_actor(what: str) -> Actor:
    """The actor of the operation running now; `UnauditedWrite` outside any operation (the
    journal and the revocations are written by operations only, house rule 3)."""
    actor: Actor | None = db.session().info.get("actor")
    if actor is None:
        raise UnauditedWrite(f"{what} outside an operation")
    return actor


class Audited:
    """Marks a mapped class whose every change leaves a history row."""

    __audit_ignored__: ClassVar[frozenset[str]] = frozenset()
    __audit_redacted__: ClassVar[frozenset[str]] = frozenset()


def operation(fn: Callable[P, R]) -> Callable[P, R]:
    """Runs `fn(actor, ...)` with its actor attached to the session and flushes before returning.

    Operations flush and never commit (house rule 2): the view or socket handler commits once.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        actor = args[0]
        if not isinstance(actor, Actor):
            raise TypeError(f"{fn.__name__} must be called with an Actor first")
        session = db.session()
        outer = session.info.get("actor")
        if outer is None and not event.contains(Session, "before_flush", require_operation):
            raise HooksMissing("call ediary.transactions.install() first (create_app does)")
        session.info["actor"] = outer or actor
        try:
            result = fn(*args, **kwargs)
            session.flush()
            return result
        finally:
            session.info["actor"] = outer

    return wrapper


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Class → its audited column attributes, read once per class: a roll's history asked the
# mapper for them twice per row (1.5 µs each time, against 0.2 µs from here).
_AUDITED_COLUMNS: dict[type[Audited], tuple[str, ...]] = {}


def _columns(obj: Audited) -> tuple[str, ...]:
    cls = type(obj)
    columns = _AUDITED_COLUMNS.get(cls)
    if columns is None:
        ignored = cls.__audit_ignored__
        columns = tuple(a.key for a in inspect(cls).column_attrs if a.key not in ignored)
        _AUDITED_COLUMNS[cls] = columns
    return columns


def _value(obj: Audited, key: str, value: Any) -> Any:
    return "***" if key in type(obj).__audit_redacted__ and value is not None else _plain(value)


def _snapshot(obj: Audited) -> dict[str, Any]:
    return {key: _value(obj, key, getattr(obj, key)) for key in _columns(obj)}


def _changes(obj: Audited) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before == after:
            continue
        old[key] = _value(obj, key, before)
        new[key] = _value(obj, key, after)
    return old, new


def _history_row(actor: Actor, obj: Audited, action: str, old: Any, new: Any) -> dict[str, Any]:
    identity = inspect(type(obj)).primary_key_from_instance(obj)
    return {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "channel": actor.channel.value,
        "kiosk_id": actor.kiosk_id,
        "school_id": getattr(obj, "school_id", None),
        "pupil_id": getattr(obj, "pupil_id", None),
        "entity": type(obj).__tablename__,  # type: ignore[attr-defined]
        "entity_id": identity[0],
        "action": action,
        "old": old,
        "new": new,
    }


def update_in_bulk(actor: Actor, changes: Sequence[tuple[Audited, Mapping[str, Any]]]) -> None:
    """Writes `(row, {column attribute: new value})` changes of one versioned class as a single
    UPDATE, with the version check and the history rows a flush would make: on PostgreSQL one
    statement with the rows as arrays (`ediary.bulk`), elsewhere an executemany.

    The ORM's flush updates versioned rows one statement at a time (to check each row count);
    a class roll made 25 round trips there. The caller flushes first (its pending rows; its
    journal events wait for the commit, see realtime/delivery.py), and gives the same
    attributes for every row. The rows' relationships over the changed columns are expired.
    A row whose version moved meanwhile raises `StaleDataError`, as a flush would; unlike a
    flush this does not mark the transaction failed, so the caller must roll back, as every
    caller of a write already does on an error (kiosks/sockets.py retries from a rollback).
    A row of a closed school year is refused before anything is sent, as the flush refuses it.
    """
    # The module imports the diary's models, which import this one.
    from ediary.office.rollover.closed import refuse_closed_rows

    current_actor("update_in_bulk")
    session = db.session()
    if not changes:
        return
    refuse_closed_rows(session, [obj for obj, _values in changes])
    cls = type(changes[0][0])
    mapper = inspect(cls)
    version = mapper.version_id_col
    assert version is not None and callable(mapper.version_id_generator)
    keys = list(changes[0][1])
    names = {key: mapper.columns[key].name for key in keys}
    params = []
    history = []
    versions = []
    for obj, values in changes:
        assert type(obj) is cls and list(values) == keys
        old_version = getattr(obj, mapper.get_property_by_column(version).key)
        new_version = mapper.version_id_generator(old_version)
        versions.append(new_version)
        params.append(
            {"w_id": inspect(obj).identity[0], "w_version": old_version}
            | {f"v_{names[key]}": value for key, value in values.items()}
            | {f"v_{version.name}": new_version}
        )
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for key in _columns(obj):
            before = getattr(obj, key)
            if key in values and values[key] != before:
                old[key] = _value(obj, key, before)
                new[key] = _value(obj, key, values[key])
        if new:
            history.append((obj, old, new))
    connection = session.connection()
    if bulk.in_arrays(connection):
        table = cast(Table, mapper.local_table)  # every audited class maps one table
        statement, source = bulk.update_statement(
            table, tuple(names.values()), version.name, connection.dialect
        )
        result = connection.execute(statement, bulk.params(source, params))
    else:
        result = connection.execute(_bulk_update(mapper, tuple(keys)), params)
    if result.rowcount != len(params):
        raise StaleDataError(
            f"UPDATE statement on table '{mapper.local_table}' expected to update "
            f"{len(params)} row(s); {result.rowcount} were matched."
        )
    stale = [
        rel.key
        for rel in mapper.relationships
        if set(rel.local_columns) & {mapper.columns[key] for key in keys}
    ]
    version_key = mapper.get_property_by_column(version).key
    for (obj, values), new_version in zip(changes, versions, strict=True):
        for key, value in values.items():
            set_committed_value(obj, key, value)
        set_committed_value(obj, version_key, new_version)
        if stale:
            session.expire(obj, stale)
    if history:
        rows = [_history_row(actor, obj, "update", old, new) for obj, old, new in history]
        _insert_history(connection, rows)


@functools.cache
def _bulk_update(mapper: Mapper[Any], keys: tuple[str, ...]) -> Update:
    """`update_in_bulk`'s executemany where rows do not go as arrays (SQLite): the statement
    for one class and its changed attributes, with the version check, built once and run with
    parameters (a roll built it anew at every commit)."""
    version = mapper.version_id_col
    assert version is not None
    columns = [mapper.columns[key] for key in keys]
    return (
        update(cast(Table, mapper.local_table))  # every audited class maps one table
        .where(mapper.primary_key[0] == bindparam("w_id"), version == bindparam("w_version"))
        .values(
            {column: bindparam(f"v_{column.name}") for column in columns}
            | {version: bindparam(f"v_{version.name}")}
        )
    )


def require_operation(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    """`before_flush`: an audited row written outside an operation stops the flush."""
    if session.info.get("actor") is not None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Audited) and (obj not in session.dirty or session.is_modified(obj)):
            raise UnauditedWrite(f"{type(obj).__name__} written outside an operation")


def write_history(session: Session, _ctx: UOWTransaction) -> None:
    """`after_flush`: one history row per audited row the flush wrote."""
    actor: Actor | None = session.info.get("actor")
    if actor is None:
        return
    rows = []
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append(_history_row(actor, obj, "create", None, _snapshot(obj)))
    for obj in session.dirty:
        if isinstance(obj, Audited):
            old, new = _changes(obj)
            if new:
                rows.append(_history_row(actor, obj, "update", old, new))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            rows.append(_history_row(actor, obj, "delete", _snapshot(obj), None))
    if rows:
        _insert_history(session.connection(), rows)


def _insert_history(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """History rows (`_history_row`'s) in one statement (`bulk.insert_rows`)."""
    from ediary.audit.models import HistoryEntry  # the model module imports this one

    bulk.insert_rows(connection, cast(Table, HistoryEntry.__table__), rows)


# The id's place in a new row's snapshot, before the INSERT gives it (`insert_audited`).
_ID_MARK = "\x00ediary.id"


def insert_audited(obj: Audited) -> None:
    """Writes a new audited row as a flush would, its history row with it, and leaves it
    persistent in the session. On PostgreSQL both rows are one statement (`_insert_with_history`):
    the row's INSERT returns its id, and the history's INSERT reads it from there. Elsewhere,
    the session's flush.

    Written by hand because the flush of one new row, with its two statements and the unit of
    work's set-up, cost a kiosk's remark 1.4-2.1 ms of CPU where this one statement costs
    0.7-0.8 (both with a savepoint, this machine): a third of what a remark costs below its
    socket. What the flush's hooks do for a new row is done here: the operation's actor is
    required (`require_operation`), a closed school year refuses it (`refuse_closed_rows`),
    and the history row is the one `write_history` would write, to its text.
    """
    actor = current_actor(f"{type(obj).__name__} written")
    session = db.session()
    session.flush()  # what is pending first, as the flush would write it before this row
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.add(obj)
        session.flush()
        return
    from ediary.office.rollover.closed import refuse_closed_rows  # imports the diary's models

    refuse_closed_rows(session, [obj])
    mapper = inspect(type(obj))
    table = cast(Table, mapper.local_table)
    (key,) = mapper.primary_key
    values = _new_row_values(mapper, obj)
    setattr(obj, key.key, _ID_MARK)
    history = _history_row(actor, obj, "create", None, _snapshot(obj))
    setattr(obj, key.key, None)
    # The id is the snapshot's first column: its mark's first place (a text may hold it too).
    head, tail = json.dumps(history.pop("new")).split(json.dumps(_ID_MARK), 1)
    statement, processors = _insert_with_history(table, tuple(values), connection.dialect)
    params = {f"r_{name}": value for name, value in values.items()}
    params |= {f"h_{name}": value for name, value in history.items() if name != "entity_id"}
    params |= {"h_new_head": head, "h_new_tail": tail}
    for name, process in processors.items():
        if process is not None:
            params[name] = process(params[name])
    setattr(obj, key.key, connection.execute(statement, params).scalar_one())
    make_transient_to_detached(obj)
    session.add(obj)


def insert_many_audited(objs: Sequence[Audited]) -> None:
    """Writes new audited rows of one class as a flush would, with their history rows, and leaves
    them persistent in the session: one INSERT of the rows returning their ids in the order
    given, then one of their history rows, whatever their number.

    Written by hand for `insert_audited`'s reason: a class roll's 25 new rows went through the
    unit of work's set-up, ordering and bookkeeping for each row, to send the same two
    statements as here; that flush was 38 % of a first roll's samples in a py-spy profile of
    `bench.run`'s herd. `bench.roll_cost`'s first round (inserts), three runs each alternating:
    8.39 ms of CPU a roll (median) with the flush, 7.57 with this. The flush's hooks for new
    rows are done here as `insert_audited` does them: the operation's actor is required, a
    closed school year refuses the rows, and each history row is the one `write_history` would
    write, to its text."""
    if not objs:
        return
    actor = current_actor(f"{type(objs[0]).__name__} written")
    session = db.session()
    session.flush()  # what is pending first, as the flush would write it before these rows
    from ediary.office.rollover.closed import refuse_closed_rows  # imports the diary's models

    refuse_closed_rows(session, list(objs))
    mapper = inspect(type(objs[0]))
    assert all(type(obj) is mapper.class_ for obj in objs), "rows of one class"
    table = cast(Table, mapper.local_table)
    (key,) = mapper.primary_key
    connection = session.connection()
    rows = [_new_row_values(mapper, obj) for obj in objs]
    if bulk.in_arrays(connection):
        statement, source = bulk.insert_statement(
            table, tuple(rows[0]), connection.dialect, returning=True
        )
        ids = sorted(connection.scalars(statement, bulk.params(source, rows)))
    else:
        ids = list(connection.scalars(_insert_returning(table), rows))
    for obj, new_id in zip(objs, ids, strict=True):
        setattr(obj, key.key, new_id)
    history = [_history_row(actor, obj, "create", None, _snapshot(obj)) for obj in objs]
    _insert_history(connection, history)
    for obj in objs:
        make_transient_to_detached(obj)
        session.add(obj)


def _new_row_values(mapper: Mapper[Any], obj: Audited) -> dict[str, Any]:
    """A new row's column values as the flush would insert them, its id left out: a
    many-to-one given as an object becomes its key, and an unset column its Python-side
    default (set on the object too). An unset column with only a server default is refused:
    the flush would read its value back, which this does not."""
    plan = _row_plan(mapper)
    assert getattr(obj, plan.key) is None, "a new row: its id comes from the INSERT"
    for relationship, pairs in plan.many_to_one:  # given as an object, written as its key
        target = getattr(obj, relationship)
        if target is not None:
            for local, source in pairs:
                setattr(obj, local, getattr(target, source))
    values = {}
    for column, attribute, default in plan.columns:
        value = getattr(obj, attribute)
        if value is None and default is not None:
            value = bulk.default_value(default)
            setattr(obj, attribute, value)
        elif value is None and attribute in plan.server_defaults:
            raise ValueError(f"{plan.table}.{column}: a server default")
        values[column] = value
    return values


class _RowPlan(NamedTuple):
    """What `_new_row_values` reads of a class's mapper, read once per class: a roll's 25 new
    rows asked the mapper the same questions for every row."""

    table: str
    key: str  # the primary key's attribute
    columns: list[tuple[str, str, Any]]  # (column key, attribute, Python-side default or None)
    server_defaults: frozenset[str]  # attributes of columns with a server default only
    many_to_one: list[tuple[str, list[tuple[str, str]]]]  # (relationship, [(local, source)])


@functools.cache
def _row_plan(mapper: Mapper[Any]) -> _RowPlan:
    table = cast(Table, mapper.local_table)
    (key,) = mapper.primary_key

    def attribute(column: Any) -> str:
        return mapper.get_property_by_column(column).key

    columns = [(c.key, attribute(c), c.default) for c in table.columns if c is not key]
    server_defaults = frozenset(
        attribute(c) for c in table.columns if c.default is None and c.server_default is not None
    )
    many_to_one = [
        (
            relationship.key,
            [
                (attribute(local), relationship.mapper.get_property_by_column(remote).key)
                for local, remote in relationship.local_remote_pairs or ()
            ],
        )
        for relationship in mapper.relationships
        if relationship.direction is MANYTOONE
    ]
    return _RowPlan(table.name, attribute(key), columns, server_defaults, many_to_one)


@functools.lru_cache(maxsize=16)  # per table
def _insert_returning(table: Table) -> Insert:
    """`insert_many_audited`'s INSERT: the ids come back in the order of the rows given
    (SQLAlchemy's "insertmanyvalues" batches them into few statements and sorts what returns)."""
    (key,) = table.primary_key.columns
    return insert(table).returning(key, sort_by_parameter_order=True)


@functools.lru_cache(maxsize=8)  # per table, columns and dialect (each engine has its own)
def _insert_with_history(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[TextClause, dict[str, Any]]:
    """`insert_audited`'s statement: the row's INSERT returning its id, and the history's
    INSERT of its "create" row, whose `entity_id` is that id and whose `new` is the row's
    snapshot with that id in its place (`:h_new_head || id || :h_new_tail`); with each
    parameter's bind processor. Built from the tables' own names and types: no input reaches
    the text."""
    from ediary.audit.models import HistoryEntry  # the model module imports this one

    history = cast(Table, HistoryEntry.__table__)
    quote = dialect.identifier_preparer.quote
    (key,) = table.primary_key.columns
    given = [f"CAST(:r_{name} AS {cast_type(table.c[name], dialect)})" for name in columns]
    history_columns = [c.name for c in history.columns if c.name != "id"]

    def history_value(name: str) -> str:
        if name == "entity_id":
            return f"entry.{quote(key.name)}"
        if name == "new":
            return f"CAST(:h_new_head || entry.{quote(key.name)} || :h_new_tail AS JSON)"
        return f"CAST(:h_{name} AS {cast_type(history.c[name], dialect)})"

    statement = (
        f"WITH entry AS (INSERT INTO {quote(table.name)}"  # noqa: S608
        f" ({', '.join(quote(name) for name in columns)}) VALUES ({', '.join(given)})"
        f" RETURNING {quote(key.name)}),"
        f" logged AS (INSERT INTO {quote(history.name)}"
        f" ({', '.join(quote(name) for name in history_columns)})"
        f" SELECT {', '.join(history_value(name) for name in history_columns)} FROM entry)"
        f" SELECT {quote(key.name)} FROM entry"
    )
    processors = {f"r_{name}": bind_processor(table.c[name], dialect) for name in columns}
    processors |= {
        f"h_{name}": bind_processor(history.c[name], dialect)
        for name in history_columns
        if name not in ("entity_id", "new")
    }
    return text(statement), processors
