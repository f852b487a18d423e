"""Everything the school holds about a person and their children (GDPR Art. 15): one structure,
served as JSON and as a readable PDF (ediary/documents/pdf.py).

Rows are dumped column by column (`_row`), so a column added to a model later is in the export
without touching this file; secrets (password and code hashes, search keys) are left out by name.
Every query is scoped by the person's id or their children's ids: nothing about another child or
another family is read (tests/privacy/test_export.py checks the dump against the database).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from sqlalchemy import inspect, select

from ediary.audit.models import HistoryEntry
from ediary.classification.models import GradeCorrection, ProposalAcknowledgement
from ediary.contacts.models import ContactVerification
from ediary.db import Base, db
from ediary.diary.models import Attendance, Grade, Remark
from ediary.excuses.models import ExcuseItem, ExcuseRequest
from ediary.notifications.models import MessageKind, OutgoingMessage
from ediary.people.models import User
from ediary.privacy.models import RecordView
from ediary.schools.models import Guardianship, Pupil

# Never in an export: credentials and derived lookup keys, not data about the person.
SECRET_COLUMNS = frozenset({"password_hash", "secret_hash", "search_key", "secret", "token_hash"})

# What the school keeps per child: each table with its pupil_id column, by its heading.
CHILD_TABLES: dict[str, type[Base]] = {
    "grades": Grade,
    "attendance": Attendance,
    "remarks": Remark,
    "excuse_requests": ExcuseRequest,
    "excuse_items": ExcuseItem,
    "history": HistoryEntry,
    "record_views": RecordView,
    # Issue 15 item 5: the guardians' acknowledgements of proposed grades, and the director's
    # corrections of final grades with their reasons.
    "proposal_acknowledgements": ProposalAcknowledgement,
    "grade_corrections": GradeCorrection,
}


def _value(value: Any) -> Any:
    if isinstance(value, dict):  # a history row's old/new: its redacted secrets left out too
        return {k: _value(v) for k, v in value.items() if k not in SECRET_COLUMNS}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"  # a photo of a note: its size, not the image
    return value


def _row(row: Base) -> dict[str, Any]:
    mapper = inspect(type(row))
    return {
        attr.key: _value(getattr(row, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_COLUMNS
    }


def _rows(model: type[Base], *where: Any) -> list[dict[str, Any]]:
    id_column = inspect(model).primary_key[0]
    return [_row(r) for r in db.session.scalars(select(model).where(*where).order_by(id_column))]


def subject_access(user: User) -> dict[str, Any]:
    """The person's data and each child's, as plain JSON values."""
    children = db.session.scalars(
        select(Pupil)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.user_id == user.id)
        .order_by(Pupil.id)
    ).all()
    return {
        "format": "ediary-subject-access/1",
        "made_at": dt.datetime.now(dt.UTC).isoformat(),
        "account": _row(user),
        "contact_verifications": _rows(ContactVerification, ContactVerification.user_id == user.id),
        "messages_queued_to_me": [
            _message(m) for m in _rows(OutgoingMessage, OutgoingMessage.user_id == user.id)
        ],
        "history_about_me": _rows(
            HistoryEntry,
            HistoryEntry.entity == User.__tablename__,
            HistoryEntry.entity_id == user.id,
        ),
        "children": [_child(user, child) for child in children],
    }


def _message(message: dict[str, Any]) -> dict[str, Any]:
    """A queued message; a reset link or an address proof is a live credential: left out."""
    if message["kind"] != MessageKind.EVENT.value:
        message["payload"] = None
    return message


def _child(user: User, child: Pupil) -> dict[str, Any]:
    section: dict[str, Any] = {
        "particulars": _row(child),
        "class": child.school_class.name,
        "school": child.school_class.school.name,
        "my_guardianship": _rows(
            Guardianship, Guardianship.pupil_id == child.id, Guardianship.user_id == user.id
        ),
    }
    for heading, model in CHILD_TABLES.items():
        section[heading] = _rows(model, model.pupil_id == child.id)  # type: ignore[attr-defined]
    return section
