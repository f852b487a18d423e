"""Many rows in one statement on PostgreSQL, the same statement whatever their number: each
column's values go as one array (`unnest`), a JSON column's as one JSON array
(`json_array_elements`), and the rows are read back in the order given (`WITH ORDINALITY`).

A class roll writes 25 rows at a time: its attendance (inserted, or updated with their version
checks), their history rows, its messages. SQLAlchemy sends such rows as an executemany, which
psycopg pipelines as one statement per row, each with its parameters converted in Python, or,
where ids come back, as one INSERT whose VALUES list grows with the rows, which neither
SQLAlchemy nor psycopg caches (psycopg converted its 6,500 characters anew at every roll:
0.58 ms of CPU, this machine). Here there is one statement per table and shape, built once,
with one parameter per column. `realtime.delivery` numbers the journal's rows the same way.
A roll's CPU below its socket, the two ways in turn in one process (`python -m
bench.roll_cost --rounds 4 --alternate-arrays`): a first roll 11.6 → 9.7 ms, a later one
10.0 → 8.9 ms.

The statements are built from the tables' own column names and types: no input reaches the
text. Each value goes through its column's bind processor first, as SQLAlchemy's would.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import psycopg
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import JSON, Column, Connection, Dialect, Table, TextClause, text
from sqlalchemy import insert as sql_insert
from sqlalchemy.sql.schema import ColumnDefault

from ediary.db import bind_processor, cast_type, sql_type

# (parameter name, the column whose type its values have): one array each.
Fields = tuple[tuple[str, "Column[Any]"], ...]


class Arrays(NamedTuple):
    """The rows' source in a statement, `ROWS FROM (...) WITH ORDINALITY AS <alias>(<names>, n)`,
    and what turns rows into its parameters (`params`)."""

    source: str
    fields: Fields
    processors: dict[str, Any]


@functools.lru_cache(maxsize=64)  # per table, shape and dialect (each engine has its own)
def arrays(fields: Fields, dialect: Dialect, alias: str) -> Arrays:
    """The source of rows whose `fields` come as one parameter each, under their own names;
    `n` numbers the rows from 1 in the order given.

    A JSON column's values come as one JSON array: psycopg writes a text array's elements one at
    a time in Python, escaping each quote with a regex substitution (a roll's 25 journal
    payloads: 0.68 ms, against 0.04 ms as one JSON array, this machine)."""

    def source(name: str, column: Column[Any]) -> str:
        if isinstance(column.type, JSON):
            return f"json_array_elements(CAST(:{name} AS JSON))"
        return f"unnest(CAST(:{name} AS {cast_type(column, dialect)}[]))"

    names = ", ".join(dialect.identifier_preparer.quote(name) for name, _column in fields)
    functions = ", ".join(source(name, column) for name, column in fields)
    processors = {name: bind_processor(column, dialect) for name, column in fields}
    return Arrays(
        f"ROWS FROM ({functions}) WITH ORDINALITY AS {alias}({names}, n)", fields, processors
    )


class BinaryArray(list[Any]):
    """A column's values, which psycopg sends as an array in its binary form.

    psycopg's default for a list is the text form, which it writes element by element in
    Python, each through a regex that decides its quoting: 23 µs for 25 integers and 100 µs
    for 25 timestamps, against 7-11 µs for either in the binary form (`timeit`, this
    machine). Its own binary dumper is registered for this class alone: other lists keep
    psycopg's default."""


psycopg.adapters.register_dumper(BinaryArray, ListBinaryDumper)


def in_arrays(connection: Connection) -> bool:
    """Whether many rows go as one array per column here: PostgreSQL's `unnest`. Elsewhere
    (SQLite) they go as SQLAlchemy's executemany."""
    return connection.dialect.name == "postgresql"


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """`rows`, each with the same columns, into `table` in one statement (`insert_statement`),
    or as an executemany where rows do not go as arrays."""
    if not rows:
        return
    if in_arrays(connection):
        given = tuple(rows[0])
        defaults = _defaults(table, given)
        if defaults:  # what SQLAlchemy's own INSERT adds for the columns not given
            rows = [{**row, **{name: default_value(d) for name, d in defaults}} for row in rows]
            given += tuple(name for name, _default in defaults)
        statement, source = insert_statement(table, given, connection.dialect)
        connection.execute(statement, params(source, rows))
    else:
        connection.execute(sql_insert(table), rows)


@functools.lru_cache(maxsize=64)  # per table and columns given
def _defaults(table: Table, given: tuple[str, ...]) -> tuple[tuple[str, ColumnDefault], ...]:
    """The Python-side defaults of the columns of `table` not `given`, which SQLAlchemy's own
    INSERT applies (a server default is the database's own, a sequence the key's)."""
    found = []
    for column in table.columns:
        default = column.default
        if column.name in given or not isinstance(default, ColumnDefault):
            continue
        if default.is_clause_element:  # a SQL expression: this statement has no place for it
            raise ValueError(f"{table.name}.{column.name}: a SQL default")
        found.append((column.name, default))
    return tuple(found)


def default_value(default: ColumnDefault) -> Any:
    """A Python-side column default's value for a new row, as SQLAlchemy's INSERT takes it
    (a callable one is SQLAlchemy's wrapper of it, which takes the statement's context)."""
    return default.arg if default.is_scalar else default.arg(None)


def params(source: Arrays, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The parameters of `source` for `rows` (each a mapping of every field's name)."""
    given: dict[str, Any] = {}
    for name, column in source.fields:
        values = [row[name] for row in rows]
        process = source.processors[name]
        if isinstance(column.type, JSON):
            given[name] = process(values) if process else values  # one JSON array
        else:
            given[name] = BinaryArray(map(process, values) if process else values)
    return given


@functools.lru_cache(maxsize=64)  # per table, columns and dialect
def insert_statement(
    table: Table, columns: tuple[str, ...], dialect: Dialect, *, returning: bool = False
) -> tuple[TextClause, Arrays]:
    """The INSERT of rows with `columns`, in the order given; with `returning`, it returns the
    new rows' ids, which, sorted, follow that order (`ORDER BY given.n`: PostgreSQL draws
    the ids from the sequence in the order the rows come, as SQLAlchemy's own
    `sort_by_parameter_order` relies on)."""
    source = arrays(tuple((name, table.c[name]) for name in columns), dialect, "given")
    quote = dialect.identifier_preparer.quote
    values = ", ".join(_given(name, table.c[name], dialect) for name in columns)
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)})"  # noqa: S608
        f" SELECT {values} FROM {source.source} ORDER BY given.n"
    )
    if returning:
        (key,) = table.primary_key.columns
        statement += f" RETURNING {quote(key.name)}"
    return text(statement), source


@functools.lru_cache(maxsize=64)  # per table, columns and dialect
def update_statement(
    table: Table, columns: tuple[str, ...], version: str, dialect: Dialect
) -> tuple[TextClause, Arrays]:
    """The UPDATE of rows by id, each only where its `version` column still holds the version
    its writer saw: a row gives `w_id` and `w_version` (which row, at which version), and
    `v_<column>` for each of `columns` and for `version` (its new values). The statement's row
    count is the number of rows it found at their version."""
    (key,) = table.primary_key.columns
    changed = (*columns, version)
    fields = (
        ("w_id", key),
        ("w_version", table.c[version]),
        *((f"v_{name}", table.c[name]) for name in changed),
    )
    source = arrays(fields, dialect, "given")
    quote = dialect.identifier_preparer.quote
    changes = ", ".join(
        f"{quote(name)} = {_given(f'v_{name}', table.c[name], dialect)}" for name in changed
    )
    statement = (
        f"UPDATE {quote(table.name)} SET {changes} FROM {source.source}"  # noqa: S608
        f" WHERE {quote(table.name)}.{quote(key.name)} = given.w_id"
        f" AND {quote(table.name)}.{quote(version)} = given.w_version"
    )
    return text(statement), source


def _given(name: str, column: Column[Any], dialect: Dialect) -> str:
    """A field of the rows' source as a value of `column`: a JSON array's element is JSON, and
    the column may be JSONB; every other field has its column's type, or TEXT for a string
    (`cast_type`), which the column checks as it takes it."""
    given = f"given.{dialect.identifier_preparer.quote(name)}"
    if isinstance(column.type, JSON):
        return f"CAST({given} AS {sql_type(column, dialect)})"
    return given
