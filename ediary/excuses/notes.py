"""Photos of paper notes: checked by size and by content (not by the name the phone gave), stored
under EXCUSE_NOTES_DIR with a random name, and read back only through the scoped route.

The file is written before the transaction commits; if the commit fails the file stays behind
unreferenced (harmless: nothing links to it, and nothing serves a file no row names).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal

MAX_NOTE_BYTES = 1_500_000  # the page shrinks bigger photos first, and refuses other files
# The formats a phone's camera or scanner app produces, recognised by their first bytes.
SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
)


@dataclass(frozen=True)
class Note:
    data: bytes
    mime: str


def sniff(data: bytes, signatures: tuple[tuple[bytes, int, str], ...] = SIGNATURES) -> str | None:
    """The type a file's first bytes prove (`signatures`: magic, offset, type), or None."""
    for magic, offset, mime in signatures:
        if data[offset : offset + len(magic)] == magic:
            if mime == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return mime
    return None


def check_note(data: bytes) -> Note:
    if len(data) > MAX_NOTE_BYTES:
        raise Refusal(
            "note_too_big",
            _l("Plik jest za duży (najwyżej 1,5 MB). Wybierz mniejszy plik i wyślij ponownie."),
        )
    if not data:
        raise Refusal("note_empty", _l("Plik jest pusty."))
    mime = sniff(data)
    if mime is None:
        raise Refusal("note_type", _l("Dozwolone są zdjęcia JPEG, PNG, WebP albo plik PDF."))
    return Note(data, mime)


def notes_dir() -> Path:
    path = Path(current_app.config["EXCUSE_NOTES_DIR"])
    if not path.is_absolute():
        path = Path(current_app.root_path).parent / path
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def store(note: Note) -> str:
    name = secrets.token_hex(16)
    target = notes_dir() / name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(note.data)
    return name


def path_of(name: str) -> Path:
    if not name or any(c not in "0123456789abcdef" for c in name):
        raise FileNotFoundError(name)  # only names `store` made; never a path from outside
    return notes_dir() / name
