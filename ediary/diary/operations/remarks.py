"""Remarks (uwagi): added, corrected and withdrawn by teachers."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from ediary.audit.recording import Actor, insert_audited, operation
from ediary.db import db
from ediary.diary.models import Remark, RemarkKind
from ediary.diary.operations.common import MAX_REMARK, check_version
from ediary.errors import Refusal
from ediary.journal.catalogue import RemarkAdded
from ediary.journal.operations import publish
from ediary.people.models import User
from ediary.schools.models import Pupil
from ediary.timetable.models import Lesson


def _remark_payload(remark: Remark, teacher: User) -> RemarkAdded:
    return {
        "pupil_id": remark.pupil_id,
        "remark_id": remark.id,
        "kind": remark.kind.value,
        "text": remark.text,
        "given_on": remark.given_on.isoformat(),
        "teacher": teacher.full_name,
    }


def _clean_remark(text: str) -> str:
    text = text.strip()
    if not text:
        raise Refusal("remark_empty", _l("Wpisz treść uwagi."))
    if len(text) > MAX_REMARK:
        raise Refusal("remark_too_long", _l("Treść uwagi jest za długa."))
    return text


@operation
def add_remark(
    actor: Actor,
    *,
    pupil: Pupil,
    kind: RemarkKind,
    text: str,
    given_on: dt.date,
    lesson: Lesson | None = None,
) -> Remark:
    if actor.user is None:
        raise Refusal("no_teacher", _l("Uwagę wpisuje nauczyciel."))
    remark = Remark(
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        teacher=actor.user,
        lesson_id=lesson.id if lesson is not None else None,
        kind=kind,
        text=_clean_remark(text),
        given_on=given_on,
    )
    insert_audited(remark)  # with its history row: one statement on PostgreSQL
    publish(
        "remark.added",
        school_id=remark.school_id,
        audience_id=pupil.id,
        **_remark_payload(remark, actor.user),
    )
    return remark


@operation
def correct_remark(
    actor: Actor,
    remark: Remark,
    *,
    kind: RemarkKind,
    text: str,
    base_version: int | None = None,
) -> Remark:
    if remark.removed:
        raise Refusal("remark_removed", _l("Ta uwaga została usunięta."))
    check_version(remark, base_version)
    remark.kind, remark.text = kind, _clean_remark(text)
    db.session.flush()
    publish(
        "remark.changed",
        school_id=remark.school_id,
        audience_id=remark.pupil_id,
        **_remark_payload(remark, remark.teacher),
    )
    return remark


@operation
def remove_remark(actor: Actor, remark: Remark, *, base_version: int | None = None) -> Remark:
    check_version(remark, base_version)
    if remark.removed:
        return remark
    remark.removed = True
    publish(
        "remark.removed",
        school_id=remark.school_id,
        audience_id=remark.pupil_id,
        pupil_id=remark.pupil_id,
        remark_id=remark.id,
    )
    return remark
