"""Loaders of the import pages: the school's office staff only; an upload only its uploader's."""

from __future__ import annotations

import re

from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db, utcnow
from ediary.office.imports.models import ImportUpload
from ediary.office.imports.operations import KEPT
from ediary.people.models import User

TOKEN = re.compile(r"[0-9a-f]{64}")


def load_upload(user: User, token: str) -> ImportUpload:
    """The person's own upload, not expired, of a school they still keep the register of;
    anything else is missing (a token seen by someone else opens nothing)."""
    upload = db.session.get(ImportUpload, token) if TOKEN.fullmatch(token) else None
    if (
        upload is None
        or upload.user_id != user.id
        or not roles.manages_register(user, upload.school_id)
        or upload.created_at < utcnow() - KEPT
    ):
        raise NotFound()
    return upload
