"""Documents: PDFs from the page templates (Polish letters, A4, nothing fetched from outside),
tables as CSV and XLSX that a spreadsheet cannot run as formulas, QR codes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader
from openpyxl import load_workbook
from pypdf import PdfReader

from ediary.documents.pdf import BASE_URL, ForbiddenResource, pdf_response, render_pdf, static_file
from ediary.documents.qr import qr_svg
from ediary.documents.tables import Table, csv_bytes, neutral, table_response, xlsx_bytes

A4_POINTS = (595.28, 841.89)  # 210 x 297 mm

SAMPLE = """{% extends "documents/base.html" %}
{% block title %}Lista{% endblock %}
{% block pages %}
{% for name in names %}
<section class="page"><h1>{{ name }}</h1>{{ extra|safe }}</section>
{% endfor %}
{% endblock %}"""


@pytest.fixture
def documents(app: Flask) -> Iterator[Flask]:
    """The app, able to render a sample document template besides its own."""
    loader = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({"sample.html": SAMPLE}), loader])  # type: ignore[list-item]
    try:
        with app.test_request_context("/"):
            yield app
    finally:
        app.jinja_env.loader = loader


def test_a_pdf_keeps_polish_letters_on_a4_pages(documents: Flask) -> None:
    names = ["Zażółć Gęślą Jaźń", "Łukasz Wąchock", "Ćma Ńandu Śledź Źrebię"]
    pdf = render_pdf("sample.html", names=names, extra="")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(names)  # one page a section
    for page, name in zip(reader.pages, names, strict=True):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width, 2), round(height, 2)) == A4_POINTS
        assert name in page.extract_text()


@pytest.mark.parametrize(
    "resource",
    [
        '<img src="http://127.0.0.1:9/tracker.png">',
        '<img src="https://example.org/x.png">',
        '<img src="file:///etc/passwd">',
        '<img src="/static/../ediary/config.py">',
        '<link rel="stylesheet" href="/login">',
    ],
)
def test_a_document_fetches_nothing_but_static_files(
    documents: Flask, resource: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name or a template can never make the server fetch a URL (SSRF) or read a file."""
    from ediary.documents import pdf as module

    asked: list[str] = []
    refused: list[str] = []

    def spy(url: str) -> tuple[bytes, str]:
        asked.append(url)
        try:
            return static_file(url)
        except ForbiddenResource:
            refused.append(url)
            raise

    monkeypatch.setattr(module, "static_file", spy)
    pdf = render_pdf("sample.html", names=["Ala"], extra=resource)  # what fails is skipped
    assert PdfReader(io.BytesIO(pdf)).pages[0].extract_text().startswith("Ala")
    assert BASE_URL + "static/css/print.css" in asked  # the stylesheet, from the static files
    assert len(refused) == 1 and refused == [u for u in asked if "print.css" not in u]


def test_the_stylesheet_of_a_document_is_served(documents: Flask) -> None:
    body, kind = static_file(BASE_URL + "static/css/print.css")
    assert b"@page" in body and kind == "text/css"


def test_a_pdf_download_names_the_file_safely(documents: Flask) -> None:
    response = pdf_response(b"%PDF-1.7", 'Listy "4b" – Wąchock.pdf')
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Listy 4b _ W_chock.pdf"')
    assert "filename*=UTF-8''Listy%20%224b%22%20%E2%80%93%20W%C4%85chock.pdf" in disposition
    assert response.headers["Cache-Control"] == "no-store"


FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formulas_are_written_as_text(text: str) -> None:
    assert neutral(text) == "'" + text
    table = Table("Lista", ["Imię", "Uwagi"], [[text, 5]])
    sheet = load_workbook(io.BytesIO(xlsx_bytes(table))).active
    assert sheet is not None
    cell = sheet["A2"]
    # XML keeps no bare CR: "\r" comes back as "\n"; what matters is the apostrophe before it.
    assert cell.value.replace("\n", "\r") == ("'" + text).replace("\n", "\r")
    assert cell.data_type == "s"
    assert sheet["B2"].value == 5  # numbers stay numbers
    written = csv_bytes(table).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(written, newline=""), delimiter=";"))
    assert rows[1][0] == "'" + text


def test_plain_text_numbers_and_dates_are_kept() -> None:
    born = dt.date(2015, 3, 9)
    table = Table("Klasa 4b: lista / 2026", ["Nazwisko", "Urodzony", "Średnia"])
    table.rows.append(["Wąchocka-Żółć", born, 4.75])
    table.rows.append(["Nowak", None, None])
    data = csv_bytes(table)
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8
    text = data.decode("utf-8-sig")
    assert text.splitlines()[1] == "Wąchocka-Żółć;2015-03-09;4,75"
    workbook = load_workbook(io.BytesIO(xlsx_bytes(table)))
    sheet = workbook.active
    assert sheet is not None and sheet.title == "Klasa 4b_ lista _ 2026"
    assert [c.value for c in sheet[2]] == ["Wąchocka-Żółć", dt.datetime(2015, 3, 9), 4.75]  # noqa: DTZ001 - as openpyxl reads a date
    assert [c.value for c in sheet[3]] == ["Nowak", None, None]


def test_a_table_download_says_what_it_is(app: Flask) -> None:
    with app.test_request_context("/"):
        response = table_response(Table("x", ["a"], [["b"]]), "xlsx", "lista-4b")
    assert (response.mimetype or "").endswith("spreadsheetml.sheet")
    assert 'filename="lista-4b.xlsx"' in response.headers["Content-Disposition"]


def test_a_qr_code_is_inline_svg_drawn_from_its_text() -> None:
    import segno

    text = "https://dziennik.example/aktywacja?kod=ABCDE-FGHJK"
    svg = str(qr_svg(text))
    assert svg.startswith("<svg") and "<script" not in svg and "<path" in svg
    assert svg == segno.make(text, error="m", micro=False).svg_inline(scale=4, omitsize=False)
    assert svg != str(qr_svg(text[:-1] + "L"))  # another text, another drawing
