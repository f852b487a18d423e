"""The timetable as CSV: one lesson a line (day, lesson number, class, group, subject, teacher,
room), as a spreadsheet saves it: UTF-8 with or without a BOM, or Windows-1250 (Polish Excel);
`;` or `,` between fields (the standard library's csv.Sniffer decides). A header line is
recognised by its first field not being a day.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal
from ediary.timetable.imports.source import Card, Source, folded, refuse_size

DAYS = {
    **{name: i for i, name in enumerate(("poniedzialek", "wtorek", "sroda", "czwartek", "piatek"))},
    **{name: i for i, name in enumerate(("pon", "wt", "sr", "czw", "pt"))},
    **{name: i for i, name in enumerate(("pn", "wt", "sr", "cz", "pt"))},
    **{str(i + 1): i for i in range(5)},
}
COLUMNS = 7


def _(message: str, **values: object) -> str:
    """Flask-Babel's gettext, typed (the library has no annotations)."""
    return str(gettext(message, **values))


def decode(data: bytes) -> str:
    """UTF-8 (a BOM dropped) if it is that, else Windows-1250: the two a Polish office has."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1250", errors="replace")


def read_csv(data: bytes) -> Source:
    refuse_size(data)
    text = decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,")
    except csv.Error:
        dialect = csv.excel
    source = Source(format="csv")
    for line, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        if not any(cell.strip() for cell in row):
            continue
        if line == 1 and folded(row[0]) not in DAYS:
            continue  # the header
        source.cards.append(_card(line, row))
    if not source.cards:
        raise Refusal("csv_empty", _l("W pliku nie ma żadnej lekcji."))
    return source


def _card(line: int, row: list[str]) -> Card:
    cells = [c.strip() for c in row] + [""] * COLUMNS
    day, number, class_name, group, subject, teacher, room = cells[:COLUMNS]
    problem = None
    if len([c for c in row if c.strip()]) < COLUMNS - 1:  # the group may be empty
        problem = _("za mało kolumn (dzień; lekcja; klasa; grupa; przedmiot; nauczyciel; sala)")
    weekday = DAYS.get(folded(day).rstrip("."), -1)
    if weekday < 0 and problem is None:
        problem = _("nieznany dzień „%(day)s”", day=day)
    if not number.isdigit() and problem is None:
        problem = _("numer lekcji „%(n)s” nie jest liczbą", n=number)
    return Card(
        line=line,
        weekday=weekday,
        slot_number=int(number) if number.isdigit() else -1,
        class_name=class_name,
        group_name=group or None,
        subject=subject,
        subject_short=subject,
        teacher=teacher,
        teacher_short=teacher,
        room=room,
        room_short=room,
        problem=problem,
    )
