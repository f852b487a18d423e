"""Attachments: checked by size and by content (never by the name or type the browser claims),
stored under MESSAGE_FILES_DIR with a random name, served only as downloads to the thread's
participants (Content-Disposition: attachment, nosniff): never shown inline, so a file can
never run as a page of this site.

Written before the transaction commits; a failed commit leaves an unreferenced file, which
nothing serves (as with excuse notes, ediary/excuses/notes.py).
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal
from ediary.excuses.notes import sniff as sniff_signatures

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 3
# Photos, PDFs and office documents: what parents and teachers send. Recognised by their bytes.
SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),  # .docx, .xlsx, .odt are zip files
)


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    mime: str


def sniff(data: bytes) -> str | None:
    """The type of an attachment by its first bytes: the excuse notes' sniffing, with the wider
    list of types a message may carry."""
    return sniff_signatures(data, SIGNATURES)


def safe_name(name: str) -> str:
    """The sender's file name as a download name: letters, digits, dots, dashes; 100 at most."""
    base = unicodedata.normalize("NFKD", os.path.basename(name.replace("\\", "/")))
    kept = "".join(c if (c.isascii() and (c.isalnum() or c in ".-_")) else "_" for c in base)
    return kept.strip("._")[:100] or "plik"


def check_upload(name: str, data: bytes) -> Upload:
    if len(data) > MAX_FILE_BYTES:
        raise Refusal(
            "file_too_big",
            _l("Plik %(name)s jest za duży (najwyżej 5 MB).", name=safe_name(name)),
        )
    if not data:
        raise Refusal("file_empty", _l("Plik %(name)s jest pusty.", name=safe_name(name)))
    mime = sniff(data)
    if mime is None:
        raise Refusal(
            "file_type",
            _l(
                "Plik %(name)s ma niedozwolony rodzaj. Dozwolone są zdjęcia JPEG, PNG, WebP, "
                "pliki PDF i dokumenty (DOCX, XLSX, ODT).",
                name=safe_name(name),
            ),
        )
    return Upload(safe_name(name), data, mime)


def files_dir() -> Path:
    path = Path(current_app.config["MESSAGE_FILES_DIR"])
    if not path.is_absolute():
        path = Path(current_app.root_path).parent / path
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def store(upload: Upload) -> str:
    name = secrets.token_hex(16)
    fd = os.open(files_dir() / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(upload.data)
    return name


def path_of(name: str) -> Path:
    if not name or any(c not in "0123456789abcdef" for c in name):
        raise FileNotFoundError(name)  # only names `store` made
    return files_dir() / name
