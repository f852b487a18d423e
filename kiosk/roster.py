"""A lesson's roster as the agent keeps it: the server's states, and what the screen shows.

The roster holds the server's attendance (`server_attendance`, pupil id as text → code or null)
and the lesson's topic as the server last told the agent: at the roster load, in each entry's
acknowledgement (its result names the resulting states), and in the journal events the server
pushes for the lesson while its roster is open (a change made on the web, an excuse approved).
What the screen shows is that, overlaid with this kiosk's entries not yet acknowledged.

A roll names only the pupils the teacher changed, each with what the screen showed before the
change (its base); the server applies a change only where it still has the base, and reports the
rest as conflicts for the teacher to decide (docs/protocol.md, "Conflicts, never silent").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

# Journal events (docs/protocol.md) that change a lesson's roster.
LESSON_EVENTS = frozenset({"attendance.recorded", "lesson.topic", "lesson.cancelled"})

Translate = Callable[..., str]
GRADE_FIELDS = ("value", "descriptive", "category_id", "description")


def parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def from_sheet(sheet: dict[str, Any]) -> dict[str, Any]:
    """The agent's roster from the server's lesson sheet."""
    types = [
        {
            "code": t["code"],
            "name": t["name"],
            "counts_as": t.get("counts_as", "present"),
            "excused": bool(t.get("excused")),
        }
        for t in sheet.get("attendance_types", [])
    ]
    pupils = sheet.get("pupils", [])
    # The server's, never a guess: with none, a roll that needs it is refused, and nothing
    # recorded is shown as nothing recorded (not as the first type, which may be an absence).
    default = sheet.get("default_code")
    return {
        "lesson": sheet["lesson"],
        "pupils": [
            {
                "id": p["id"],
                "name": f"{p['last_name']} {p['first_name']}",
                "grades": [_grade_of(g) for g in p.get("grades") or []],
            }
            for p in pupils
        ],
        "server_attendance": {str(p["id"]): p.get("attendance") for p in pupils},
        "types": types,
        "default_code": default,
        "categories": [
            {"id": c["id"], "name": c["name"], "weight": c.get("weight")}
            for c in sheet.get("grade_categories", [])
        ],
    }


def _grade_of(grade: dict[str, Any]) -> dict[str, Any]:
    """A pupil's grade as the screen lists it (this term, the lesson's subject): `version` is
    what a correction or a withdrawal sends back; `mine`: this teacher may correct it."""
    return {
        "id": grade["id"],
        "value": grade.get("value"),
        "descriptive": grade.get("descriptive"),
        "category_id": grade.get("category_id"),
        "description": grade.get("description"),
        "given_on": grade.get("given_on"),
        "version": grade["version"],
        "mine": bool(grade.get("mine")),
    }


def grade_in(roster: dict[str, Any], grade_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pupil, grade) of a grade on the roster; KeyError if it is not there."""
    for pupil in roster.get("pupils", []):
        for grade in pupil.get("grades") or []:
            if grade["id"] == grade_id:
                return pupil, grade
    raise KeyError(grade_id)


def apply_grade_result(
    roster: dict[str, Any], kind: str, payload: dict[str, Any], result: dict[str, Any]
) -> bool:
    """A grade entry the server acknowledged: the roster's grades as the server now has them,
    so that a correction made next sends the version the server expects."""
    grade_id, version = result.get("grade_id"), result.get("version")
    if not isinstance(grade_id, int) or not isinstance(version, int):
        return False
    if kind == "grade":
        pupil = next(
            (p for p in roster.get("pupils", []) if p["id"] == result.get("pupil_id")), None
        )
        if pupil is None:
            return False
        fields = {k: payload.get(k) for k in GRADE_FIELDS}
        given_on = (roster.get("lesson") or {}).get("date")
        pupil.setdefault("grades", []).append(
            {"id": grade_id, **fields, "given_on": given_on, "version": version, "mine": True}
        )
        return True
    try:
        pupil, grade = grade_in(roster, grade_id)
    except KeyError:
        return False
    if kind == "grade_removal":
        pupil["grades"] = [g for g in pupil["grades"] if g["id"] != grade_id]
    elif kind == "grade_correction":
        grade.update(
            {k: payload.get(k) for k in ("value", "descriptive", "category_id", "description")}
        )
        grade["version"] = version
    else:
        return False
    return True


def apply_event(roster: dict[str, Any], message: dict[str, Any]) -> bool:
    """Applies a pushed journal event of the roster's lesson; whether anything changed."""
    lesson = roster.get("lesson") or {}
    if message.get("lesson_id") != lesson.get("id"):
        return False
    kind = message.get("type")
    if kind == "attendance.recorded":
        pupil = str(message.get("pupil_id"))
        states = roster.setdefault("server_attendance", {})
        if pupil not in states or states[pupil] == message.get("code"):
            return False
        states[pupil] = message.get("code")
        return True
    if kind == "lesson.topic" and lesson.get("topic") != message.get("topic"):
        lesson["topic"], lesson["status"] = message.get("topic"), "held"
        return True
    if kind == "lesson.cancelled" and lesson.get("status") != "cancelled":
        lesson["status"] = "cancelled"
        return True
    return False


def apply_result(roster: dict[str, Any], result: dict[str, Any]) -> None:
    """A roll's acknowledged result: the server's states of the pupils it named, its topic."""
    states = roster.setdefault("server_attendance", {})
    for pupil, code in (result.get("states") or {}).items():
        if str(pupil) in states:
            states[str(pupil)] = code
    if "topic" in result:
        roster["lesson"]["topic"] = result["topic"]


def shown(roster: dict[str, Any], pending: Iterable[dict[str, Any]]) -> tuple[dict[str, str], Any]:
    """What the screen shows: the server's states and topic, overlaid with the payloads of the
    rolls not yet acknowledged, in the order they were made."""
    attendance = {k: v for k, v in (roster.get("server_attendance") or {}).items() if v}
    topic = (roster.get("lesson") or {}).get("topic")
    for payload in pending:
        states = payload.get("states") or {}
        attendance.update({str(k): str(v) for k, v in states.items()})
        if payload.get("topic"):
            topic = payload["topic"]
    return attendance, topic


def type_names(roster: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(t["code"]): t for t in roster.get("types", [])}


def summary(t: Translate, roster: dict[str, Any], states: dict[int, str], topic: str) -> str:
    """What a roll changes, counted by meaning (`counts_as`, `excused`), not by code: late is
    no absence. E.g. "Obecność: 2 nieobecnych, 1 inne (spóźniony)"."""
    types = type_names(roster)
    default = roster.get("default_code")
    absent = excused = present = 0
    other: dict[str, int] = {}
    for code in states.values():
        kind = types.get(code, {"name": code, "counts_as": "present", "excused": False})
        if kind.get("counts_as") == "absent":
            absent += 1
            excused += bool(kind.get("excused"))
        elif code == default:
            present += 1
        else:
            other[str(kind["name"])] = other.get(str(kind["name"]), 0) + 1
    parts = []
    if absent:
        parts.append(
            t("{n} nieobecnych (w tym {excused} usprawiedliwionych)", n=absent, excused=excused)
            if excused
            else t("{n} nieobecnych", n=absent)
        )
    if present:
        parts.append(t("{n} obecnych", n=present))
    if other:
        names = ", ".join(name for name in sorted(other))
        parts.append(t("{n} inne ({names})", n=sum(other.values()), names=names))
    what = ", ".join(parts) if parts else t("bez zmian")
    if topic:
        return t("Obecność: {what}, temat: {topic}", what=what, topic=topic)
    return t("Obecność: {what}", what=what)


CHANNELS = {
    "web": "przeglądarka",
    "kiosk": "komputer w sali",
    "cli": "administrator systemu",
    "system": "system",
    "import": "import danych",
}


def readable_conflicts(
    t: Translate,
    roster: dict[str, Any] | None,
    conflicts: list[dict[str, Any]],
    decisions: dict[str, str],
    zone: dt.tzinfo,
) -> list[dict[str, Any]]:
    """An entry's conflicts as the screen says them: both values, who made the other change."""
    roster = roster or {}
    types = type_names(roster)
    names = {str(p["id"]): p["name"] for p in roster.get("pupils", [])}

    def state(code: Any) -> str:
        if code is None:
            return t("nic nie zapisano")
        return str(types.get(str(code), {}).get("name") or code)

    readable = []
    for conflict in conflicts:
        topic = conflict.get("field") == "topic"
        item = "topic" if topic else str(conflict.get("pupil_id"))
        at = conflict.get("at")
        readable.append(
            {
                "item": item,
                "what": t("Temat lekcji") if topic else names.get(item, item),
                "wanted": str(conflict.get("wanted")) if topic else state(conflict.get("wanted")),
                "server": str(conflict.get("server") or "—")
                if topic
                else state(conflict["server"]),
                "by": conflict.get("by") or t(CHANNELS["system"]),
                "at": f"{parse_time(at).astimezone(zone):%H:%M}" if at else "",
                "channel": t(CHANNELS.get(str(conflict.get("channel")), "system")),
                "decision": decisions.get(item),
            }
        )
    return readable
