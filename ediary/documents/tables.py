"""Lists as CSV and XLSX downloads, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by Excel or
LibreOffice as a formula (OWASP "CSV injection"): such text is written with a leading apostrophe,
which the spreadsheet shows as text and does not evaluate. Numbers and dates stay numbers and dates.

CSV is UTF-8 with a byte order mark and semicolons: what Excel with Polish regional settings opens
with the right letters and columns without an import dialog.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal
from urllib.parse import quote

from flask import Response

Cell = str | int | float | Decimal | dt.date | dt.datetime | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Format = Literal["csv", "xlsx"]
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Table:
    title: str  # the sheet's name and the file's
    headers: Sequence[str]
    rows: list[Sequence[Cell]] = field(default_factory=list)


def neutral(value: Cell) -> Cell:
    """Text that a spreadsheet would run as a formula, made plain text; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutral(h) for h in table.headers])
    for row in table.rows:
        writer.writerow(["" if v is None else _csv_text(neutral(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_text(value: Cell) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")  # the decimal comma of Polish spreadsheets
    return str(value)


def xlsx_bytes(table: Table) -> bytes:
    from openpyxl import Workbook  # only downloads need it

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(table.title))
    sheet.append([neutral(h) for h in table.headers])
    for row in table.rows:
        values = []
        for value in row:
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)  # spreadsheets have no time zones
            values.append(neutral(value))
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title).strip() or "Arkusz"
    return cleaned[:31]


def table_response(table: Table, fmt: Format, filename: str) -> Response:
    data = csv_bytes(table) if fmt == "csv" else xlsx_bytes(table)
    name = f"{filename}.{fmt}"
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    response = Response(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
