"""PESEL, the Polish personal identification number: checksum, birth date and sex.

Eleven digits `YYMMDDZZZXQ`. The month carries the century (+80 for 1800-1899, +0 for 1900-1999,
+20 for 2000-2099, +40 for 2100-2199); the checksum weights 1,3,7,9,1,3,7,9,1,3 apply to the first
ten digits and Q = (10 - sum mod 10) mod 10; the tenth digit is odd for men and even for women.
Written here because it is twenty lines of arithmetic from the law, not worth a dependency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal

_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
# Month offset → first year of its century.
_CENTURIES = {80: 1800, 0: 1900, 20: 2000, 40: 2100}


@dataclass(frozen=True)
class Pesel:
    number: str
    birth_date: dt.date
    sex: Literal["F", "M"]


def checksum_digit(first_ten: str) -> int:
    return (10 - sum(w * int(d) for w, d in zip(_WEIGHTS, first_ten, strict=True)) % 10) % 10


def parse_pesel(text: str) -> Pesel:
    """The PESEL with its birth date and sex, or a Polish refusal saying what is wrong with it."""
    number = text.strip().replace(" ", "")
    if len(number) != 11 or not number.isascii() or not number.isdigit():
        raise Refusal("pesel_format", _l("PESEL to 11 cyfr."))
    if checksum_digit(number[:10]) != int(number[10]):
        raise Refusal(
            "pesel_checksum", _l("PESEL ma błędną cyfrę kontrolną: sprawdź, czy nie ma literówki.")
        )
    birth_date = _birth_date(number)
    if birth_date is None:
        raise Refusal("pesel_date", _l("PESEL zawiera datę urodzenia, która nie istnieje."))
    return Pesel(number, birth_date, "M" if int(number[9]) % 2 else "F")


def _birth_date(number: str) -> dt.date | None:
    year, month, day = int(number[0:2]), int(number[2:4]), int(number[4:6])
    offset = (month // 20) * 20
    if offset == 60:  # 2200-2299 is not in the law's table
        return None
    try:
        return dt.date(_CENTURIES[offset] + year, month - offset, day)
    except ValueError:
        return None
