"""What a timetable file says, whatever its format: bells, and cards (a lesson placed in a slot).

The aSc XML reader (asc.py) and the CSV reader (csvfile.py) make a `Source`; the dry run
(dryrun.py) compares it with the school's plan. Names are as written in the file: matching to
the school's teachers, classes, subjects and rooms is the dry run's.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal

MAX_BYTES = 50 * 1024 * 1024  # a real school's export is a few hundred kilobytes


@dataclass(frozen=True)
class Period:
    number: int
    starts_at: dt.time
    ends_at: dt.time


@dataclass(frozen=True)
class Card:
    line: int  # where the file says it (a CSV line, an XML card's position), for the person
    weekday: int  # 0 = Monday
    slot_number: int
    class_name: str
    group_name: str | None  # None: the whole class
    subject: str  # name
    subject_short: str
    teacher: str  # "first last" or "last first", as the file writes it
    teacher_short: str
    room: str
    weekly_hours: int | None = None  # aSc gives it per lesson; CSV: counted
    room_short: str = ""
    problem: str | None = None  # what the reader already found wrong with it


@dataclass
class Source:
    format: str  # "asc" or "csv"
    periods: list[Period] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)


def refuse_size(data: bytes) -> None:
    """Too big to be a timetable: refused before any parser sees it."""
    if len(data) > MAX_BYTES:
        raise Refusal("too_large", _l("Plik jest za duży (najwyżej 50 MB)."))
    if not data.strip():
        raise Refusal("empty_file", _l("Plik jest pusty."))


def folded(text: str) -> str:
    """For matching names: case, spacing and Polish diacritics ignored ("Łukasik" = "lukasik")."""
    text = text.replace("ł", "l").replace("Ł", "L")
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def clock(text: str) -> dt.time | None:
    """ "8:00" or "08:00" as a time; None if it is not one."""
    try:
        hours, minutes = text.strip().split(":")[:2]
        return dt.time(int(hours), int(minutes))
    except ValueError:
        return None
