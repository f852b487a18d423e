"""A closed school year is read-only: the one check, on every flush, for every code path.

A `before_flush` listener (installed by ediary/transactions.py with the others), not a check in
each operation: the roll, topics, grades, remarks, excuses applied, cancellations and
substitutions, the kiosk and imports all write diary rows through different operations, and one
forgotten call would let a closed year change. It looks at the diary rows the flush writes
(lessons, attendance, grades, remarks, teaching assignments), finds their year with one query
per kind, and refuses the flush with a Polish `Refusal` when a year is closed; the operation's
caller rolls back, as for any refusal. The rows `audit.recording.update_in_bulk` writes without
a flush (a roll's changed attendance) go through the same check (`refuse_closed_rows`).
Only writes of such rows pay the query, and only for the lessons the transaction has not already
read open: a kiosk entry reads its lesson's year with the lesson (kiosks/receipt.py) and notes
it here (`note_open_lessons`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import Session, UOWTransaction

from ediary.db import TransactionNotes
from ediary.diary.models import Attendance, Grade, Remark
from ediary.errors import Refusal
from ediary.schools.models import SchoolClass, SchoolYear, Term
from ediary.timetable.models import Lesson, TeachingAssignment

# Lessons whose school year this transaction read open, in the same transaction as its writes:
# the same guarantee as the query at the flush, which is no lock either (a rollover closing the
# year between the read and the commit is a race the flush's query has as well).
OPEN_LESSONS: TransactionNotes[int] = TransactionNotes("ediary.rollover.open_lessons")


def note_open_lessons(session: Session, lesson_ids: Iterable[int]) -> None:
    OPEN_LESSONS.add(session, lesson_ids)


def refuse_closed_years(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    refuse_closed_rows(
        session,
        (
            obj
            for obj in (*session.new, *session.dirty, *session.deleted)
            if obj not in session.dirty or session.is_modified(obj)
        ),
    )


def refuse_closed_rows(session: Session, rows: Iterable[object]) -> None:
    """The check itself, for rows about to be written: the flush's, and those a statement
    writes without a flush (`audit.recording.update_in_bulk`)."""
    class_ids: set[int] = set()
    lesson_ids: set[int] = set()
    term_ids: set[int] = set()
    for obj in rows:
        if isinstance(obj, Lesson | TeachingAssignment):
            class_ids.add(obj.class_id)
        elif isinstance(obj, Attendance):
            lesson_ids.add(obj.lesson_id)
        elif isinstance(obj, Grade):
            term_ids.add(obj.term_id)
        elif isinstance(obj, Remark) and obj.lesson_id is not None:
            lesson_ids.add(obj.lesson_id)
    lesson_ids.difference_update(OPEN_LESSONS.get(session))
    if not (class_ids or lesson_ids or term_ids):
        return
    with session.no_autoflush:
        closed = _closed_year(session, class_ids, lesson_ids, term_ids)
    if closed is not None:
        raise Refusal(
            "year_closed",
            _l(
                "Rok szkolny %(name)s jest zamknięty: jego wpisów nie można już zmieniać.",
                name=closed,
            ),
        )


@functools.cache
def _closed_year_queries() -> dict[str, Select[str]]:
    """The name of a closed year among some classes', lessons' or terms' years: one query per
    kind, each built once and run with its ids as an expanding parameter (every flush of an
    entry runs one; building it anew cost more than running it)."""
    closed = SchoolYear.closed_at.is_not(None)
    ids = bindparam("ids", type_=Integer, expanding=True)
    return {
        "classes": select(SchoolYear.name)
        .join(SchoolClass, SchoolClass.year_id == SchoolYear.id)
        .where(SchoolClass.id.in_(ids), closed)
        .limit(1),
        "lessons": select(SchoolYear.name)
        .join(SchoolClass, SchoolClass.year_id == SchoolYear.id)
        .join(Lesson, Lesson.class_id == SchoolClass.id)
        .where(Lesson.id.in_(ids), closed)
        .limit(1),
        "terms": select(SchoolYear.name)
        .join(Term, Term.year_id == SchoolYear.id)
        .where(Term.id.in_(ids), closed)
        .limit(1),
    }


def _closed_year(
    session: Session, class_ids: set[int], lesson_ids: set[int], term_ids: set[int]
) -> str | None:
    queries = _closed_year_queries()
    for kind, ids in (("classes", class_ids), ("lessons", lesson_ids), ("terms", term_ids)):
        # A row whose parent is new in this flush has no parent id yet: its parent is checked.
        known = sorted(i for i in ids if i)
        if known:
            name = session.scalar(queries[kind], {"ids": known})
            if name is not None:
                return name
    return None
