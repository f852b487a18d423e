"""Reading an uploaded file: encodings, separators, XLSX, and every hostile input refused in
Polish before anything is kept (no traceback, nothing written: reading writes nothing)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest

from ediary.errors import Refusal
from ediary.office.imports.reading import MAX_ROWS, kind_of, read_sheet
from tests.officedata.sheets import HEADERS, csv_text, row, xlsx


def _refused(data: bytes, kind: str, code: str) -> str:
    with pytest.raises(Refusal) as refused:
        read_sheet(data, kind)
    assert refused.value.code == code
    return str(refused.value.message)


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (lambda t: t.encode("cp1250"), "Windows-1250"),
        (lambda t: t.encode("utf-8"), "UTF-8"),
        (lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), "UTF-8 (BOM)"),
    ],
)
def test_polish_letters_arrive_whatever_the_encoding(
    encoded: Callable[[str], bytes], encoding: str
) -> None:
    text = csv_text([row("Łucja", "Wąchocka")])
    sheet = read_sheet(encoded(text), "csv")
    assert sheet.encoding == encoding
    assert sheet.headers == HEADERS
    assert sheet.rows[0][:2] == ["Łucja", "Wąchocka"]


def test_commas_or_semicolons() -> None:
    sheet = read_sheet(csv_text([row("Zoë", "Nowak")], sep=",").encode(), "csv")
    assert sheet.delimiter == ","
    assert sheet.rows[0][1] == "Nowak"


def test_an_xlsx_is_read_with_numbers_as_typed() -> None:
    data = xlsx([["Ola", "Wójcik", 15231412345, "", "5a"]])
    sheet = read_sheet(data, "xlsx")
    assert sheet.rows[0][:3] == ["Ola", "Wójcik", "15231412345"]


def test_nul_bytes_are_refused() -> None:
    message = _refused(csv_text([row()]).encode() + b"\x00\x00", "csv", "import_binary")
    assert "zerowe" in message


def test_a_binary_file_named_csv_is_refused() -> None:
    png = bytes.fromhex("89504e470d0a1a0a") + bytes(range(1, 9)) * 40
    _refused(png.replace(b"\x00", b""), "csv", "import_binary")


def test_text_in_no_known_encoding_is_refused() -> None:
    # 0x98 is undefined in Windows-1250 and not UTF-8: neither reads it.
    _refused(b"Imi\x98;Nazwisko\r\n", "csv", "import_encoding")


def test_too_many_rows_are_refused() -> None:
    text = "Imię;Nazwisko\r\n" + "a;b\r\n" * 100_000
    message = _refused(text.encode(), "csv", "import_too_many")
    assert f"{MAX_ROWS:,}".replace(",", " ") in message or str(MAX_ROWS) in message


def test_a_zip_bomb_named_xlsx_is_refused_before_it_is_inflated() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    _refused(out.getvalue(), "xlsx", "import_zip_bomb")


def test_garbage_named_xlsx_is_refused() -> None:
    _refused(b"PK\x03\x04 not really a zip", "xlsx", "import_xlsx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    _refused(out.getvalue(), "xlsx", "import_xlsx")


def test_an_empty_file_and_other_kinds_are_refused() -> None:
    _refused(b"", "csv", "import_empty")
    with pytest.raises(Refusal, match="import_kind"):
        kind_of("uczniowie.pdf")
    assert kind_of("Uczniowie.XLSX") == "xlsx"
