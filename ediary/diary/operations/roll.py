"""The roll and the topic: a teacher's change applies only where the server still has what the
teacher's screen showed (compare-and-set per pupil); anything else is a conflict, reported with
both values and who made the other change, never overwritten in silence.

The rules, per pupil named in a roll (docs/protocol.md, "Conflicts, never silent"):
- the new state equals the base (what the screen showed): the teacher changed nothing;
- the server still has the base: the new state is written;
- the server already has the new state: nothing to write;
- otherwise the server's state stays, and the roll reports a conflict.
A base of "nothing recorded" matches a server with nothing recorded or with the default state:
the screen showed the default for both. The topic follows the same rules with `base_topic`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from ediary.audit.queries import LastChange, last_changes
from ediary.audit.recording import Actor, insert_many_audited, operation, update_in_bulk
from ediary.diary.models import Attendance, AttendanceType
from ediary.diary.operations.common import MAX_TOPIC, lesson_fields, require_open
from ediary.diary.queries import attendance_types, default_type, roster_with_attendance
from ediary.errors import Refusal
from ediary.journal.operations import publish
from ediary.timetable.models import Lesson, LessonStatus


def _same(a: str | None, b: str | None, default: str | None) -> bool:
    """Whether two states look the same on a screen: nothing recorded shows the default."""
    return (a or default) == (b or default)


def _who(change: LastChange | None) -> dict[str, Any]:
    return change.as_dict() if change is not None else {"by": None, "at": None, "channel": None}


@operation
def submit_roll(
    actor: Actor,
    lesson: Lesson,
    states: Mapping[int, str],
    *,
    base: Mapping[int, str | None] | None,
    topic: str | None = None,
    base_topic: str | None = None,
) -> dict[str, Any]:
    """A class roll (and optionally the topic) in one transaction.

    `states` maps pupil id → attendance code for the pupils whose state the teacher changed;
    `base` maps each of them to what the teacher's screen showed before (None: nothing
    recorded), and `base_topic` is the topic it showed (None: none). Each pupil is then decided
    by the module's rules; a conflict keeps the server's value and is listed in `conflicts` as
    `{pupil_id, base, server, wanted, by, at, channel}` (or `{field: "topic", ...}`).

    `base=None` means no expectation at all: the states and the topic are written whatever the
    server has. Only for the demo seed and imports, which write what was recorded elsewhere;
    a person's roll (the web form, a kiosk, an excuse decision) always passes a base.

    Pupils of the roster with nothing recorded get the school's default state (the first roll
    of a lesson), whatever the roll names. The result carries the resulting state of each pupil
    named in `states` (`states`, by pupil id as text) and the lesson's topic.
    """
    require_open(lesson)
    types = attendance_types(lesson.school_id)
    listed = roster_with_attendance(lesson)
    pupils = [pupil_id for pupil_id, _record in listed]
    foreign = sorted(set(states) - set(pupils))
    if foreign:
        raise Refusal(
            "pupil_not_in_lesson", _l("Ucznia nie ma na liście tej lekcji."), pupil_ids=foreign
        )
    unknown = sorted({code for code in states.values() if code not in types})
    if unknown:
        raise Refusal("attendance_unknown", _l("Nieznany rodzaj obecności."), codes=unknown)
    if base is not None and set(states) - set(base):
        raise Refusal(
            "invalid",
            _l("Brakuje stanu ucznia sprzed zmiany: nic nie zapisano."),
            pupil_ids=sorted(set(states) - set(base)),
        )
    default = default_type(types.values())
    default_code = default.code if default is not None else None
    # Read before the loop: a lazy load inside it would autoflush the first changed row, and
    # with it take the journal lock (realtime/delivery.py) for the rest of the loop.
    fields = lesson_fields(lesson)
    # Read fresh with the roster: the comparison is with what the server has now.
    existing = {pupil_id: record for pupil_id, record in listed if record is not None}
    server = {pupil_id: record.type.code for pupil_id, record in existing.items()}

    wanted: dict[int, AttendanceType] = {}
    clashes: list[int] = []
    for pupil_id, code in states.items():
        if base is None:
            wanted[pupil_id] = types[code]
        elif _same(code, base[pupil_id], default_code):
            continue  # the teacher changed nothing here
        elif _same(server.get(pupil_id), base[pupil_id], default_code):
            wanted[pupil_id] = types[code]
        elif server.get(pupil_id) != code:
            clashes.append(pupil_id)
    for pupil_id in pupils:
        if pupil_id not in wanted and pupil_id not in existing and pupil_id not in clashes:
            if default is None:
                raise Refusal(
                    "attendance_no_default",
                    _l(
                        "Szkoła nie ma rodzaju obecności oznaczającego obecność ucznia."
                        " Administrator szkoły musi go dodać."
                    ),
                )
            wanted[pupil_id] = default

    changed = 0
    # Rows are written after the loop, the new ones in one INSERT (`insert_many_audited`) and the
    # changed ones in one UPDATE (`update_in_bulk`), each with its history rows: the flush would
    # send one UPDATE per versioned row, and its unit of work cost a first roll more than its
    # statements did.
    new_rows: list[Attendance] = []
    updates: list[tuple[Attendance, dict[str, Any]]] = []
    for pupil_id in pupils:
        record = existing.get(pupil_id)
        target = wanted.get(pupil_id)
        if target is None or (record is not None and record.type_id == target.id):
            continue
        if record is None:
            new_rows.append(
                Attendance(
                    school_id=lesson.school_id, lesson_id=lesson.id, pupil_id=pupil_id, type=target
                )
            )
        else:
            updates.append((record, {"type_id": target.id, "recorded_at": dt.datetime.now(dt.UTC)}))
        changed += 1
        publish(
            "attendance.recorded",
            school_id=lesson.school_id,
            audience_id=pupil_id,
            pupil_id=pupil_id,
            **fields,
            code=target.code,
            name=target.name,
            counts_as=target.counts_as.value,
            excused=target.excused,
            previous_code=server.get(pupil_id),
        )
    insert_many_audited(new_rows)  # the journal events wait for the commit
    update_in_bulk(actor, updates)

    # A clash over a pupil with nothing recorded (a screen that showed a state the server never
    # had) has no row, and no one who changed it.
    who = last_changes("attendance", [existing[p].id for p in clashes if p in existing])
    conflicts: list[dict[str, Any]] = [
        {
            "pupil_id": pupil_id,
            "base": base[pupil_id] if base is not None else None,
            "server": server.get(pupil_id),
            "wanted": states[pupil_id],
            **_who(who.get(existing[pupil_id].id) if pupil_id in existing else None),
        }
        for pupil_id in sorted(clashes)
    ]
    if topic is not None:
        if base is None:
            set_topic(actor, lesson, topic)
        else:
            clash = change_topic(actor, lesson, topic, base_topic=base_topic)
            if clash is not None:
                conflicts.append(clash)
    resulting = {
        str(pupil_id): wanted[pupil_id].code if pupil_id in wanted else server.get(pupil_id)
        for pupil_id in sorted(states)
    }
    return {
        "lesson_id": lesson.id,
        "pupils": len(pupils),
        "changed": changed,
        "conflicts": conflicts,
        "states": resulting,
        "topic": lesson.topic,
    }


def _clean_topic(topic: str) -> str:
    topic = topic.strip()
    if not topic:
        raise Refusal("topic_empty", _l("Wpisz temat lekcji."))
    if len(topic) > MAX_TOPIC:
        raise Refusal("topic_too_long", _l("Temat lekcji jest za długi."))
    return topic


@operation
def set_topic(actor: Actor, lesson: Lesson, topic: str) -> Lesson:
    """Entering the topic confirms that the lesson took place. Whatever the server has: a
    person's change goes through `change_topic`, which compares first."""
    require_open(lesson)
    topic = _clean_topic(topic)
    if topic == lesson.topic:
        return lesson
    lesson.topic = topic
    lesson.status = LessonStatus.HELD
    publish(
        "lesson.topic",
        school_id=lesson.school_id,
        audience_id=lesson.class_id,
        class_id=lesson.class_id,
        **lesson_fields(lesson),
        topic=topic,
    )
    return lesson


@operation
def change_topic(
    actor: Actor, lesson: Lesson, topic: str, *, base_topic: str | None
) -> dict[str, Any] | None:
    """Sets the topic if the lesson still has `base_topic` (what the teacher's screen showed;
    None: no topic). Otherwise keeps the server's topic and returns the conflict
    `{field: "topic", base, server, wanted, by, at, channel}`."""
    require_open(lesson)
    wanted = _clean_topic(topic)
    expected = (base_topic or "").strip() or None
    server = lesson.topic
    if wanted in (expected, server):
        return None  # nothing changed on the screen, or the server has it already
    if server == expected:
        set_topic(actor, lesson, wanted)
        return None
    who = last_changes("lessons", [lesson.id], field="topic").get(lesson.id)
    return {"field": "topic", "base": expected, "server": server, "wanted": wanted, **_who(who)}
