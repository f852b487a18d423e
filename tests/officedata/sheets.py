"""Spreadsheets for the import tests: valid PESELs, CSV in the encodings schools send, XLSX."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from openpyxl import Workbook

from ediary.schools.pesel import checksum_digit

HEADERS = [
    "Imię",
    "Nazwisko",
    "PESEL",
    "Data urodzenia",
    "Klasa",
    "Imię opiekuna 1",
    "Nazwisko opiekuna 1",
    "E-mail opiekuna 1",
    "Telefon opiekuna 1",
]


def pesel(born: dt.date, serial: int) -> str:
    month = born.month + (20 if born.year >= 2000 else 0)
    first_ten = f"{born.year % 100:02d}{month:02d}{born.day:02d}{serial:04d}"
    return first_ten + str(checksum_digit(first_ten))


def csv_text(
    rows: Sequence[Sequence[str]], headers: Sequence[str] = HEADERS, sep: str = ";"
) -> str:
    lines = [sep.join(headers)] + [sep.join(row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def xlsx(rows: Sequence[Sequence[object]], headers: Sequence[str] = HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


BORN = dt.date(2015, 3, 14)


def row(
    first: str = "Jan",
    last: str = "Kowalczyk",
    number: str | None = None,
    school_class: str = "5a",
    guardian: tuple[str, str, str, str] = ("Anna", "Kowalczyk", "anna.k@example.pl", "600100200"),
) -> list[str]:
    return [first, last, number or pesel(BORN, 1234), "", school_class, *guardian]
