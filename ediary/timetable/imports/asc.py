"""aSc Timetables' XML export, read safely.

The file comes from a person's upload: defusedxml with `forbid_dtd` refuses any DOCTYPE, which
is where entity bombs (billion laughs) and external entities (XXE) live, and entities or
external references met anyway; the size is checked before parsing (source.refuse_size).

The shape (OFFICE.md; public parsers agree): a `timetable` root with `periods` (period,
starttime, endtime), `daysdefs` or `days` (a bit string per day: "10000" is Monday), `subjects`,
`teachers`, `classrooms`, `classes`, `groups` (of a class; `entireclass="1"` is the whole class),
`lessons` (subjectid, classids, groupids, teacherids, periodsperweek) and `cards` (lessonid,
period, days, weeks, classroomids).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal
from ediary.timetable.imports.source import Card, Period, Source, clock, refuse_size


def _(message: str, **values: object) -> str:
    """Flask-Babel's gettext, typed (the library has no annotations)."""
    return str(gettext(message, **values))


def read_asc(data: bytes) -> Source:
    refuse_size(data)
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise Refusal(
            "xml_forbidden",
            _l(
                "Plik zawiera definicje DTD lub encje, których nie przyjmujemy ze względów "
                "bezpieczeństwa. Wyeksportuj plan z aSc ponownie."
            ),
        ) from None
    except (ParseError, ValueError):
        raise Refusal("xml_invalid", _l("To nie jest poprawny plik XML.")) from None
    if root.tag != "timetable":
        raise Refusal("xml_not_asc", _l("To nie jest eksport planu z aSc Plan Lekcji (XML)."))
    return _source(root)


def _by_id(root: Element, section: str, tag: str) -> dict[str, Element]:
    found = root.find(section)
    if found is None:
        return {}
    return {e.get("id", ""): e for e in found.iter(tag)}


def _ids(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _weekday(bits: str) -> int | None:
    """ "01000" is Tuesday; a card on no day, or on more than one, is not read."""
    days = [i for i, bit in enumerate(bits.strip()) if bit == "1"]
    return days[0] if len(days) == 1 and days[0] < 5 else None


def _source(root: Element) -> Source:
    source = Source(format="asc")
    periods = root.find("periods")
    for period in periods.iter("period") if periods is not None else ():
        starts, ends = clock(period.get("starttime", "")), clock(period.get("endtime", ""))
        number = period.get("period") or period.get("name") or ""
        if starts is not None and ends is not None and number.isdigit():
            source.periods.append(Period(int(number), starts, ends))
    subjects = _by_id(root, "subjects", "subject")
    teachers = _by_id(root, "teachers", "teacher")
    rooms = _by_id(root, "classrooms", "classroom")
    classes = _by_id(root, "classes", "class")
    groups = _by_id(root, "groups", "group")
    lessons = _by_id(root, "lessons", "lesson")
    cards = root.find("cards")
    for line, card in enumerate(cards.iter("card") if cards is not None else (), start=1):
        source.cards.extend(_cards(line, card, lessons, subjects, teachers, rooms, classes, groups))
    return source


def _cards(
    line: int,
    card: Element,
    lessons: dict[str, Element],
    subjects: dict[str, Element],
    teachers: dict[str, Element],
    rooms: dict[str, Element],
    classes: dict[str, Element],
    groups: dict[str, Element],
) -> list[Card]:
    """One card per class of its lesson (a lesson may join classes, e.g. PE for two)."""
    lesson = lessons.get(card.get("lessonid", ""))
    problem = None
    if lesson is None:
        return [_broken(line, _("karta bez lekcji (lessonid)"))]
    weekday = _weekday(card.get("days", ""))
    period = card.get("period", "")
    if weekday is None or not period.isdigit():
        problem = _("karta bez jednego dnia (pon.-pt.) lub numeru lekcji")
    if "0" in card.get("weeks", "1"):
        problem = _("plan tygodni A/B nie jest obsługiwany")
    subject = subjects.get(lesson.get("subjectid", ""))
    teacher_ids = _ids(lesson.get("teacherids"))
    teacher = teachers.get(teacher_ids[0]) if teacher_ids else None
    if len(teacher_ids) > 1:
        problem = _("lekcja z kilkoma nauczycielami: podziel ją na grupy w aSc")
    room_ids = _ids(card.get("classroomids")) or _ids(lesson.get("classroomids"))
    room = rooms.get(room_ids[0]) if room_ids else None
    try:
        hours = round(float(lesson.get("periodsperweek", "") or "0"))
    except ValueError:
        hours = 0
    made = []
    group_ids = _ids(lesson.get("groupids"))
    for class_id in _ids(lesson.get("classids")):
        school_class = classes.get(class_id)
        group = next(
            (groups[g] for g in group_ids if g in groups and groups[g].get("classid") == class_id),
            None,
        )
        whole = group is None or group.get("entireclass") == "1"
        made.append(
            Card(
                line=line,
                weekday=weekday if weekday is not None else -1,
                slot_number=int(period) if period.isdigit() else -1,
                class_name=school_class.get("name", "") if school_class is not None else "",
                group_name=None if whole or group is None else group.get("name", ""),
                subject=subject.get("name", "") if subject is not None else "",
                subject_short=subject.get("short", "") if subject is not None else "",
                teacher=_teacher_name(teacher),
                teacher_short=teacher.get("short", "") if teacher is not None else "",
                room=room.get("name", "") if room is not None else "",
                room_short=room.get("short", "") if room is not None else "",
                weekly_hours=hours or None,
                problem=problem,
            )
        )
    return made or [_broken(line, _("lekcja bez klasy"))]


def _teacher_name(teacher: Element | None) -> str:
    if teacher is None:
        return ""
    first, last = teacher.get("firstname", ""), teacher.get("lastname", "")
    return f"{first} {last}".strip() or teacher.get("name", "")


def _broken(line: int, problem: str) -> Card:
    return Card(line, -1, -1, "", None, "", "", "", "", "", problem=problem)
