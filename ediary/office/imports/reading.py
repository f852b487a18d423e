"""Reading an uploaded spreadsheet into rows of text, refusing hostile input before it costs.

CSV: UTF-8 (with or without a byte order mark) or Windows-1250, what Polish Excel saves; `,` or
`;`. XLSX: openpyxl in read-only mode, after the zip directory's uncompressed sizes are checked
(a ZIP bomb is refused before anything is inflated). Every refusal is a Polish `Refusal`; nothing
here writes. The csv and zipfile modules of the standard library do the parsing; only the checks
around them are ours.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal

MAX_ROWS = 10_000  # a school has at most a few thousand pupils; more is not a pupil list
MAX_COLUMNS = 60
MAX_CELL = 250
MAX_UNCOMPRESSED = 40 * 1024 * 1024  # the whole XLSX, inflated
MAX_RATIO = 200  # inflated / compressed of one member: spreadsheets compress ~10×, bombs 1000×
MAX_MEMBERS = 200
# Control characters a text file has none of (tab, CR and LF are fine): a binary named .csv.
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\r", "\n"}


@dataclass
class Sheet:
    headers: list[str]
    rows: list[list[str]]  # without the header row; row i is line i + 2 of the file
    encoding: str = ""
    delimiter: str = ""


def kind_of(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".csv") or name.endswith(".txt"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    raise Refusal("import_kind", _l("Wybierz plik CSV albo XLSX."))


def read_sheet(data: bytes, kind: str) -> Sheet:
    if not data:
        raise Refusal("import_empty", _l("Plik jest pusty."))
    sheet = read_csv(data) if kind == "csv" else read_xlsx(data)
    if not any(h.strip() for h in sheet.headers):
        raise Refusal("import_no_header", _l("Pierwszy wiersz pliku musi zawierać nazwy kolumn."))
    return sheet


def decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding's Polish name; refused when it is not text."""
    if b"\x00" in data:
        raise Refusal(
            "import_binary", _l("Plik zawiera bajty zerowe: to nie jest plik tekstowy CSV.")
        )
    if data.startswith(b"\xef\xbb\xbf"):
        text, encoding = _strict(data[3:], "utf-8"), "UTF-8 (BOM)"
    else:
        try:
            text, encoding = data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            text, encoding = _strict(data, "cp1250"), "Windows-1250"
    if any(c in _CONTROL for c in text):
        raise Refusal(
            "import_binary", _l("Plik zawiera znaki sterujące: to nie jest plik tekstowy CSV.")
        )
    return text, encoding


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise Refusal(
            "import_encoding",
            _l("Nie da się odczytać pliku: zapisz go jako CSV w UTF-8 albo Windows-1250."),
        ) from None


def read_csv(data: bytes) -> Sheet:
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = _limited(reader)
    except csv.Error:
        raise Refusal(
            "import_csv", _l("Plik CSV jest uszkodzony (niedomknięty cudzysłów?).")
        ) from None
    if not rows:
        raise Refusal("import_empty", _l("Plik jest pusty."))
    return Sheet(rows[0], rows[1:], encoding, delimiter)


def _limited(rows: object) -> list[list[str]]:
    out: list[list[str]] = []
    for row in rows:  # type: ignore[attr-defined]
        cells = ["" if c is None else _cell(c) for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells and out:
            continue  # empty lines between and after the rows
        if len(out) > MAX_ROWS:
            raise Refusal(
                "import_too_many",
                _l("Plik ma więcej niż %(n)s wierszy: podziel go na mniejsze.", n=MAX_ROWS),
            )
        if len(cells) > MAX_COLUMNS:
            raise Refusal(
                "import_columns", _l("Plik ma za dużo kolumn (najwyżej %(n)s).", n=MAX_COLUMNS)
            )
        out.append(cells)
    return out


def _cell(value: object) -> str:
    if hasattr(value, "date") and hasattr(value, "hour"):  # a datetime from a date cell
        value = value.date()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a PESEL typed as a number
    text = str(value).strip()
    if "\x00" in text:
        raise Refusal("import_binary", _l("Plik zawiera bajty zerowe."))
    return text[:MAX_CELL]


def check_zip(data: bytes) -> None:
    """Refuses an archive whose members would inflate past the limits (a ZIP bomb), by the
    sizes its central directory declares; zipfile also stops a member that inflates past its
    declared size (a lying directory), so these numbers bound what openpyxl can read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise Refusal("import_xlsx", _l("To nie jest poprawny plik XLSX.")) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise Refusal("import_xlsx", _l("To nie jest poprawny plik XLSX."))
        total = sum(m.file_size for m in members)
        bomb = total > MAX_UNCOMPRESSED or any(
            m.file_size > MAX_RATIO * max(m.compress_size, 1024) for m in members
        )
        if bomb:
            raise Refusal(
                "import_zip_bomb",
                _l("Plik XLSX po rozpakowaniu byłby za duży: to nie wygląda na listę uczniów."),
            )


def read_xlsx(data: bytes) -> Sheet:
    check_zip(data)
    from openpyxl import load_workbook  # only imports need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise Refusal("import_xlsx", _l("To nie jest poprawny plik XLSX.")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = _limited(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1))
    except Refusal:
        raise
    except Exception:
        raise Refusal("import_xlsx", _l("To nie jest poprawny plik XLSX.")) from None
    finally:
        workbook.close()
    if not rows:
        raise Refusal("import_empty", _l("Plik jest pusty."))
    return Sheet(rows[0], rows[1:], "XLSX", "")
