"""The demo's lessons on dates, and what happened in the past ones, written in bulk.

The diary is a few hundred thousand rows; going through the unit of work would take minutes, so
it is inserted in bulk, and so is a history row for every row it inserts: who (the teacher), when
(during the lesson), channel "import", the new values (as the audit writes them). No journal
events: these are not live changes anybody is waiting for.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, inspect

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Channel
from ediary.db import Base, db
from ediary.demo import plan
from ediary.demo.history import History, LessonFacts, SchoolCodes
from ediary.diary.models import Attendance, Grade, Remark
from ediary.schools.models import School
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.operations import local_datetime

WARSAW = ZoneInfo("Europe/Warsaw")
# Eight 45-minute lessons from 8:00; ten-minute breaks and a twenty-minute one for lunch.
BELLS = (
    dt.time(8, 0),
    dt.time(8, 55),
    dt.time(9, 50),
    dt.time(10, 55),
    dt.time(11, 50),
    dt.time(12, 45),
    dt.time(13, 40),
    dt.time(14, 35),
)
LESSON = dt.timedelta(minutes=45)

Progress = Callable[[str, int], None]  # (what is being done, steps finished since last call)


@dataclass
class Ids:
    """Database ids of the plan's objects, by their index in the plan."""

    schools: list[School] = field(default_factory=list)
    rooms: list[int] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)
    teachers: list[int] = field(default_factory=list)
    pupils: list[int] = field(default_factory=list)
    assignments: list[int] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)
    subjects: dict[tuple[int, str], int] = field(default_factory=dict)
    terms: dict[int, list[tuple[dt.date, dt.date, int]]] = field(default_factory=dict)
    codes: dict[int, SchoolCodes] = field(default_factory=dict)


def write_diary(
    district: plan.District,
    ids: Ids,
    days: list[dt.date],
    now: dt.datetime,
    today: dt.date,
    report: Progress,
) -> dict[str, int]:
    """Every lesson of `days`, with history for those over by `now`; returns what was written."""
    rng = random.Random(plan.SEED + today.toordinal())
    pupils: dict[int, list[int]] = {}
    for index, pupil in enumerate(district.pupils):
        pupils.setdefault(ids.classes[pupil.klass], []).append(ids.pupils[index])
    history = History(rng, pupils, days, today, ids.terms, ids.codes)
    lessons = _lessons(district, ids, days, now)
    protected = {
        ids.teachers[i]
        for i, t in enumerate(district.teachers)
        if t.login in ("nauczyciel1", "wychowawca1")
    }
    history.prepare(lessons, protected)
    totals = dict.fromkeys(("lessons", "attendance", "grades", "remarks", "history"), 0)
    by_day: dict[dt.date, list[LessonFacts]] = {}
    for lesson in lessons:
        by_day.setdefault(lesson.date, []).append(lesson)
    for day in days:
        _day(history, by_day.get(day, []), now, rng, totals)
        report(f"lessons of {day.isoformat()}", 1)
    return totals


def _lessons(
    district: plan.District, ids: Ids, days: list[dt.date], now: dt.datetime
) -> list[LessonFacts]:
    by_weekday: dict[int, list[int]] = {}
    for index, entry in enumerate(district.entries):
        by_weekday.setdefault(entry.weekday, []).append(index)
    lessons: list[LessonFacts] = []
    for day in days:
        for index in by_weekday.get(day.weekday(), []):
            entry = district.entries[index]
            assignment = district.assignments[entry.assignment]
            klass = district.classes[assignment.klass]
            school = ids.schools[klass.school]
            starts = local_datetime(school, day, BELLS[entry.slot - 1])
            lessons.append(
                LessonFacts(
                    key=len(lessons),
                    entry=ids.entries[index],
                    room=ids.rooms[entry.room],
                    date=day,
                    slot=entry.slot,
                    school=school.id,
                    klass=ids.classes[assignment.klass],
                    grade_level=klass.grade,
                    subject=assignment.subject,
                    subject_id=ids.subjects[(klass.school, assignment.subject)],
                    teacher=ids.teachers[assignment.teacher],
                    starts_at=starts,
                    ends_at=starts + LESSON,
                    held=starts + LESSON <= now,
                    hours=assignment.hours,
                )
            )
    return lessons


def _day(
    history: History,
    lessons: list[LessonFacts],
    now: dt.datetime,
    rng: random.Random,
    totals: dict[str, int],
) -> None:
    rows: list[dict[str, Any]] = []
    actors: list[int] = []
    ats: list[dt.datetime] = []
    for lesson in lessons:
        teacher = lesson.substitute or lesson.teacher
        status = LessonStatus.PLANNED
        if lesson.held:
            status = LessonStatus.CANCELLED if lesson.cancelled else LessonStatus.HELD
        rows.append(
            {
                "school_id": lesson.school,
                "timetable_entry_id": lesson.entry,
                "date": lesson.date,
                "slot_number": lesson.slot,
                "starts_at": lesson.starts_at,
                "ends_at": lesson.ends_at,
                "class_id": lesson.klass,
                "group_id": None,
                "subject_id": lesson.subject_id,
                "teacher_id": teacher,
                "substitute_for_id": lesson.teacher if lesson.substitute else None,
                "room_id": lesson.room,
                "status": status,
                "topic": history.topic(lesson) if status is LessonStatus.HELD else None,
                "version": 1,
            }
        )
        actors.append(teacher)
        ats.append(
            lesson.starts_at + dt.timedelta(minutes=rng.randint(2, 9)) if lesson.held else now
        )
    lesson_ids = _insert(Lesson, rows, actors, ats, totals)

    attendance: list[dict[str, Any]] = []
    takers: list[int] = []  # who took each roll
    grades: list[dict[str, Any]] = []
    remarks: list[dict[str, Any]] = []
    spans: list[tuple[LessonFacts, int, int]] = []  # a lesson's grades: grades[start:end]
    starts: dict[int, dt.datetime] = {}
    for lesson, lesson_id, row in zip(lessons, lesson_ids, rows, strict=True):
        if row["status"] is not LessonStatus.HELD:
            continue
        starts[lesson_id] = lesson.starts_at
        records = history.records(lesson, lesson_id, row["teacher_id"])
        attendance.extend(records.attendance)
        takers.extend([row["teacher_id"]] * len(records.attendance))
        spans.append((lesson, len(grades), len(grades) + len(records.grades)))
        grades.extend(records.grades)
        remarks.extend(records.remarks)
    _insert(Attendance, attendance, takers, [a["recorded_at"] for a in attendance], totals)
    grade_ids = _insert(
        Grade, grades, [g["teacher_id"] for g in grades], _during(grades, starts, rng), totals
    )
    for lesson, start, end in spans:
        history.saved_grades(lesson, grades[start:end], grade_ids[start:end])
    _insert(
        Remark, remarks, [r["teacher_id"] for r in remarks], _during(remarks, starts, rng), totals
    )


def _during(
    rows: list[dict[str, Any]], starts: dict[int, dt.datetime], rng: random.Random
) -> list[dt.datetime]:
    """When each row was written: some minutes into its lesson."""
    return [starts[row["lesson_id"]] + dt.timedelta(minutes=rng.randint(10, 42)) for row in rows]


def _plain(value: Any) -> Any:
    """A value as the audit stores it in JSON (the same form `audit.recording` writes)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _insert(
    model: type[Base],
    rows: list[dict[str, Any]],
    actors: list[int],
    ats: list[dt.datetime],
    totals: dict[str, int],
) -> list[int]:
    """Inserts `rows` and a "create" history row for each; returns the new ids in order."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    result = db.session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    new_ids = list(result.scalars())
    ignored = model.__audit_ignored__  # type: ignore[attr-defined]
    keys = [a.key for a in inspect(model).column_attrs if a.key not in ignored]
    history: list[dict[str, Any]] = [
        {
            "at": at,
            "actor_id": actor,
            "channel": Channel.IMPORT.value,
            "kiosk_id": None,
            "school_id": row.get("school_id"),
            "pupil_id": row.get("pupil_id"),
            "entity": table.name,
            "entity_id": new_id,
            "action": "create",
            "old": None,
            "new": {k: _plain(new_id if k == "id" else row.get(k)) for k in keys},
        }
        for row, new_id, actor, at in zip(rows, new_ids, actors, ats, strict=True)
    ]
    db.session.execute(insert(cast(Table, HistoryEntry.__table__)), history)
    totals[table.name] = totals.get(table.name, 0) + len(rows)
    totals["history"] += len(history)
    return new_ids
