"""Helpers of the staff console's tests: posting a page's form, reading a PDF's text."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from pypdf import PdfReader
from werkzeug.test import TestResponse

from tests.html import csrf_token

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")


def post(
    client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None
) -> TestResponse:
    """The form as a browser sends it: the CSRF token read from the page the form is on."""
    return client.post(path, data={"csrf_token": csrf_token(client, page or path), **data})


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def codes_in(text: str) -> list[str]:
    return CODE.findall(text)
