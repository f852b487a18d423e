"""Many rows in one statement (ediary/bulk.py): on PostgreSQL each column's values go as one
array, and what is stored must be what SQLAlchemy's own executemany stores, to the text."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import DataError

from ediary import bulk
from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel, insert_audited, operation, update_in_bulk
from ediary.db import utcnow
from ediary.diary.models import Attendance, Grade
from ediary.diary.operations import submit_roll
from ediary.notifications.models import Channel as Via
from ediary.notifications.models import MessageKind, OutgoingMessage
from tests.factories import unsaved_grade

HISTORY = cast(Table, HistoryEntry.__table__)
MESSAGES = cast(Table, OutgoingMessage.__table__)


def _postgresql_only(session: Any) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("elsewhere rows go as SQLAlchemy's executemany, which is the reference")


def _both_ways(
    session: Any,
    monkeypatch: pytest.MonkeyPatch,
    table: Table,
    rows: list[dict[str, Any]],
    unique: str | None = None,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """`rows` inserted by SQLAlchemy's executemany, then again as arrays (their `unique`
    column moved on by 1,000); each set as stored, every column as its text but the ids and
    `unique`, which differ."""
    stored = []
    for as_arrays in (False, True):
        monkeypatch.setattr(bulk, "in_arrays", lambda _connection, value=as_arrays: value)
        newest = session.scalar(select(func.max(table.c.id))) or 0
        if as_arrays and unique is not None:
            rows = [row | {unique: row[unique] + 1000} for row in rows]
        bulk.insert_rows(session.connection(), table, rows)
        columns = ", ".join(
            f"CAST({c.name} AS TEXT)" for c in table.columns if c.name not in ("id", unique)
        )
        stored.append(
            [
                tuple(row)
                for row in session.execute(
                    text(f"SELECT {columns} FROM {table.name} WHERE id > :newest ORDER BY id"),  # noqa: S608
                    {"newest": newest},
                )
            ]
        )
    return stored[0], stored[1]


def test_history_rows_as_arrays_are_stored_as_sqlalchemy_stores_them(
    world: Any, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quotes, backslashes and Polish letters in the JSON, a JSON null (`old` of a new row),
    SQL NULLs, a timestamp; a row without `at` gets its column's default, as SQLAlchemy's
    INSERT gives it."""
    _postgresql_only(session)
    at = dt.datetime(2026, 11, 18, 8, 0, 1, 250000, tzinfo=dt.UTC)
    base = {"actor_id": world.teacher.id, "channel": "kiosk", "kiosk_id": None,
            "school_id": world.school.id, "pupil_id": world.pupil.id, "entity": "remarks",
            "entity_id": 7, "action": "create"}  # fmt: skip
    rows = [
        base | {"at": at, "old": None, "new": {"text": 'Zażółć "gęślą" \\ jaźń', "n": 1.5}},
        base | {"at": at, "old": {"kind": "neutral"}, "new": {"list": [1, None, "NULL", ""]}},
        base | {"at": at, "pupil_id": None, "old": {}, "new": None},
    ]
    executemany, arrays = _both_ways(session, monkeypatch, HISTORY, rows)
    assert len(arrays) == 3
    assert arrays == executemany
    assert arrays[0][-2] == "null"  # a JSON null, as SQLAlchemy's JSON type writes None

    undated = [{k: v for k, v in row.items() if k != "at"} for row in rows[:1]]
    before = utcnow()
    executemany, arrays = _both_ways(session, monkeypatch, HISTORY, undated)
    assert executemany[0][1:] == arrays[0][1:]
    newest = session.scalar(select(HistoryEntry.at).order_by(HistoryEntry.id.desc()).limit(1))
    assert before <= newest <= utcnow()  # its default, set now


def test_messages_as_arrays_are_stored_as_sqlalchemy_stores_them(
    world: Any, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enums given and defaulted (`status`), booleans, the defaults of the columns not given."""
    _postgresql_only(session)
    now = dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC)
    rows = [
        {"event_id": n, "user_id": world.parent.id, "school_id": world.school.id,
         "channel": via, "kind": MessageKind.EVENT, "topic": "absence",
         "event_type": "attendance.recorded", "payload": {"pupil_id": world.pupil.id, "n": n},
         "urgent": n == 1, "digest": False, "created_at": now, "next_attempt_at": now}
        for n, via in enumerate((Via.EMAIL, Via.SMS))
    ]  # fmt: skip
    executemany, arrays = _both_ways(session, monkeypatch, MESSAGES, rows, unique="event_id")
    assert len(arrays) == 2
    assert arrays == executemany


def test_a_text_longer_than_its_column_is_refused_not_cut(world: Any, session: Any) -> None:
    """An explicit CAST to VARCHAR(n) would cut it without a word; the column refuses it, as
    it refuses it from SQLAlchemy's own INSERT."""
    _postgresql_only(session)
    row = {"at": dt.datetime(2026, 11, 18, tzinfo=dt.UTC), "actor_id": None, "channel": "cli",
           "kiosk_id": None, "school_id": None, "pupil_id": None, "entity": "x" * 41,
           "entity_id": None, "action": "create", "old": None, "new": None}  # fmt: skip
    session.commit()
    before = session.scalar(select(func.count()).select_from(HistoryEntry))
    with pytest.raises(DataError, match="too long"):
        bulk.insert_rows(session.connection(), HISTORY, [row, row | {"entity": "grades"}])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == before

    # A row in one go with its history (`insert_audited`, a grade's and a remark's) likewise.
    @operation
    def grade(actor: Actor) -> None:
        insert_audited(unsaved_grade(world, value="5", description="x" * 201))

    with pytest.raises(DataError, match="too long"):
        grade(Actor(world.teacher, Channel.WEB))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Grade)) == 0
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == before


def test_an_update_of_rows_as_arrays_writes_each_rows_own_value_and_version(
    world: Any, session: Any
) -> None:
    """`update_in_bulk` (on PostgreSQL one UPDATE of arrays) writes each row's own new value
    and version, with its history row. (A row whose version moved meanwhile:
    tests/test_attendance.py.)"""
    actor = Actor(world.teacher, Channel.KIOSK, world.kiosk.id)
    states = {world.pupil.id: "nb", world.classmate.id: "sp"}
    submit_roll(actor, world.lesson, states, base=None)
    session.commit()
    rows = {a.pupil_id: a for a in session.scalars(select(Attendance))}
    present = rows[world.pupil.id].type_id
    late = rows[world.classmate.id].type_id

    @operation
    def swap(actor: Actor) -> None:
        update_in_bulk(
            actor,
            [
                (rows[world.pupil.id], {"type_id": late}),
                (rows[world.classmate.id], {"type_id": present}),
            ],
        )

    swap(actor)
    session.commit()
    session.expire_all()
    stored = {a.pupil_id: (a.type_id, a.version) for a in session.scalars(select(Attendance))}
    assert stored == {world.pupil.id: (late, 2), world.classmate.id: (present, 2)}
    changes = session.scalars(
        select(HistoryEntry.new).where(
            HistoryEntry.entity == "attendance", HistoryEntry.action == "update"
        )
    ).all()
    assert sorted(change["type_id"] for change in changes) == sorted([late, present])
