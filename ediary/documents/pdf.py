"""PDFs from the same Jinja templates as the print views, rendered by WeasyPrint.

A document template extends `documents/base.html` (A4, the print stylesheet) and is shown in the
browser as the print view, or rendered here as a PDF: one template, two outputs, so the printout
and the screen never disagree. WeasyPrint may load only this site's static files (stylesheets,
images): a document never fetches anything from the network, whatever a pupil's name contains.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Response, current_app, render_template

STATIC_PREFIX = "/static/"
# Documents are rendered against this made-up origin: a link of the template ("/static/...")
# resolves to it, and anything that does not is refused (a name can never reach the network).
BASE_URL = "https://ediary.invalid/"


class ForbiddenResource(ValueError):
    """A document asked for something other than one of this site's static files."""


def static_file(url: str) -> tuple[bytes, str]:
    """The bytes and type of one of this site's static files that `url` names, else refused."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}/" != BASE_URL or not parts.path.startswith(STATIC_PREFIX):
        raise ForbiddenResource(url)
    static = Path(current_app.static_folder or "").resolve()
    target = (static / parts.path[len(STATIC_PREFIX) :]).resolve()
    if not target.is_relative_to(static) or not target.is_file():
        raise ForbiddenResource(url)
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return target.read_bytes(), kind


def render_pdf(template: str, **context: Any) -> bytes:
    """The template rendered as a PDF (A4, Polish letters from the system's DejaVu fonts)."""
    # Imported here: WeasyPrint loads Pango at import, which only document requests need.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            body, kind = static_file(url)
            return URLFetcherResponse(url, body, {"Content-Type": kind})

    html = render_template(template, pdf=True, **context)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnly())
    return bytes(document.write_pdf())


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF download. The name is ASCII for old browsers, UTF-8 (RFC 6266) for the rest."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
