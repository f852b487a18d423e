"""Reads a diary export back into a database: the proof that an export is complete (the test
restores one into an empty database and compares every row and its history), and the way back
from an archive.

Rows go in with their own ids, by Core INSERTs: a restore writes no history of its own (the
file's history is the history) and no journal events (nothing happened: the past is restored).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import JSON, Boolean, Column, Date, Integer, Numeric, Table, Time, insert
from sqlalchemy.orm import Session

from ediary.db import UTCDateTime
from ediary.records.contents import NAMESPACE, PARTS
from ediary.records.export import BATCH, schema


def value(column: Column[Any], text: str) -> Any:
    """A column's value from the schema's text (the inverse of `export.text`)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return text == "true"
    if isinstance(kind, UTCDateTime):
        return dt.datetime.fromisoformat(text)
    if isinstance(kind, Integer):
        return int(text)
    if isinstance(kind, Date):
        return dt.date.fromisoformat(text)
    if isinstance(kind, Time):
        return dt.time.fromisoformat(text)
    if isinstance(kind, Numeric):
        return decimal.Decimal(text)
    return text


def _rows(path: Path) -> Iterator[tuple[Table, dict[str, Any]]]:
    parts = {f"{{{NAMESPACE}}}{part.element}": part for part in PARTS}
    for _event, element in etree.iterparse(
        str(path),
        schema=schema(),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    ):
        part = parts.get(element.tag)
        if part is None:
            continue
        table = part.table
        row: dict[str, Any] = {name: None for name in part.columns}
        for name, text in element.attrib.items():
            row[name] = value(table.c[name], text)
        for child in element:
            name = etree.QName(child).localname
            if isinstance(table.c[name].type, JSON):
                row[name] = json.loads(child.text or "null")
        element.clear(keep_tail=True)
        yield table, row


def restore(session: Session, path: Path) -> int:
    """Inserts every row of the export at `path`; returns how many. The caller commits."""
    connection = session.connection()
    batch: list[dict[str, Any]] = []
    table: Table | None = None
    count = 0
    for row_table, row in _rows(path):
        if row_table is not table and batch:
            connection.execute(insert(table), batch)  # type: ignore[arg-type]
            batch = []
        table = row_table
        batch.append(row)
        count += 1
        if len(batch) >= BATCH:
            connection.execute(insert(table), batch)
            batch = []
    if batch and table is not None:
        connection.execute(insert(table), batch)
    if connection.dialect.name == "postgresql":
        _advance_sequences(session)
    return count


def _advance_sequences(session: Session) -> None:
    """PostgreSQL's sequences behind the restored ids, so the next row gets a fresh one."""
    from sqlalchemy import text

    for part in PARTS:
        name = part.table.name
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - our table names
                f"GREATEST((SELECT max(id) FROM {name}), 1))"
            )
        )
