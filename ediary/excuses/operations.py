"""Asking for an excuse, deciding it, and turning approved absences into excused ones.

The attendance change goes through the diary's own `submit_roll`, naming only this pupil: the
history row (old → new, who, when) and the `attendance.recorded` event are the diary's, exactly as
if the tutor had changed the roll by hand. Other pupils of the lesson keep what they have (one
with nothing recorded yet gets the roll's default, as whenever a roll is saved; after a roll was
taken every pupil has a record). The roll's base is the absence the request was about: an
absence changed meanwhile (to "present", say) is a conflict, and stays as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, or_, select

from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.diary.models import Attendance, AttendanceType
from ediary.diary.operations import submit_roll
from ediary.errors import Refusal
from ediary.excuses.models import ExcuseItem, ExcuseRequest, ExcuseStatus
from ediary.excuses.notes import Note, store
from ediary.journal.catalogue import ExcuseRequested
from ediary.journal.operations import publish
from ediary.schools.models import GroupMembership, Pupil
from ediary.timetable.models import Lesson, LessonStatus

# What an excuse turns an absence into: absent → absent excused, late → late excused.
EXCUSED_CODE = {"nb": "u", "sp": "su"}
# How far back a parent may ask (statutes usually say 7 days from the return to school) and how
# far ahead an absence may be announced.
DAYS_BACK = 14
DAYS_AHEAD = 30
MAX_REASON = 500


def _payload(request: ExcuseRequest) -> ExcuseRequested:
    return {
        "pupil_id": request.pupil_id,
        "excuse_id": request.id,
        "status": request.status.value,
        "first_date": request.first_date.isoformat(),
        "last_date": request.last_date.isoformat(),
        "absences": len(request.items),
    }


def _publish(name: Literal["excuse.requested", "excuse.decided"], request: ExcuseRequest) -> None:
    publish(name, school_id=request.school_id, audience_id=request.pupil_id, **_payload(request))


def requested_lesson_ids(pupil: Pupil) -> set[int]:
    """Lessons already in a request that is pending or approved (asked once is enough)."""
    query = (
        select(ExcuseItem.lesson_id)
        .join(ExcuseRequest, ExcuseRequest.id == ExcuseItem.request_id)
        .where(
            ExcuseItem.pupil_id == pupil.id,
            ExcuseItem.lesson_id.is_not(None),
            ExcuseRequest.status != ExcuseStatus.REJECTED,
        )
    )
    return {i for i in db.session.scalars(query) if i is not None}


@operation
def request_excuse(
    actor: Actor,
    pupil: Pupil,
    *,
    absences: Sequence[Attendance],
    future_days: Sequence[dt.date],
    reason: str,
    note: Note | None,
    today: dt.date,
) -> ExcuseRequest:
    reason = reason.strip()
    if not reason:
        raise Refusal("reason_empty", _l("Podaj powód nieobecności."))
    if len(reason) > MAX_REASON:
        raise Refusal("reason_too_long", _l("Powód jest za długi (najwyżej 500 znaków)."))
    if not absences and not future_days:
        raise Refusal("nothing_chosen", _l("Zaznacz nieobecności albo podaj dni nieobecności."))
    already = requested_lesson_ids(pupil)
    items: list[ExcuseItem] = []
    for record in absences:
        lesson = db.session.get(Lesson, record.lesson_id)
        if (
            record.pupil_id != pupil.id
            or lesson is None
            or record.type.code not in EXCUSED_CODE
            or record.lesson_id in already
            or not today - dt.timedelta(days=DAYS_BACK) <= lesson.date <= today
        ):
            raise Refusal("absence_invalid", _l("Tej nieobecności nie można usprawiedliwić."))
        items.append(
            ExcuseItem(
                school_id=pupil.school_id, pupil_id=pupil.id, lesson_id=lesson.id, date=lesson.date
            )
        )
    for day in sorted(set(future_days)):
        if not today <= day <= today + dt.timedelta(days=DAYS_AHEAD):
            raise Refusal(
                "day_invalid", _l("Zapowiedzieć można nieobecność w ciągu najbliższych 30 dni.")
            )
        items.append(ExcuseItem(school_id=pupil.school_id, pupil_id=pupil.id, date=day))
    dates = [item.date for item in items]
    request = ExcuseRequest(
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        class_id=pupil.class_id,
        requested_by_id=actor.user_id,
        reason=reason,
        first_date=min(dates),
        last_date=max(dates),
        items=items,
    )
    if note is not None:
        request.note_file, request.note_type, request.note_size = (
            store(note),
            note.mime,
            len(note.data),
        )
    db.session.add(request)
    db.session.flush()
    _publish("excuse.requested", request)
    return request


@operation
def decide_excuses(
    actor: Actor,
    requests: Sequence[ExcuseRequest],
    *,
    approve: bool,
    note: str | None = None,
) -> int:
    """Approves or rejects pending requests (all of them or none); returns absences excused."""
    note = (note or "").strip() or None
    if note is not None and len(note) > 500:
        raise Refusal("decision_note_too_long", _l("Komentarz jest za długi."))
    if not requests:
        raise Refusal("nothing_chosen", _l("Zaznacz co najmniej jeden wniosek."))
    if any(r.status is not ExcuseStatus.PENDING for r in requests):
        raise Refusal("already_decided", _l("Ten wniosek został już rozpatrzony."))
    excused = 0
    for request in requests:
        request.status = ExcuseStatus.APPROVED if approve else ExcuseStatus.REJECTED
        request.decided_by_id = actor.user_id
        request.decided_at = utcnow()
        request.decision_note = note
        db.session.flush()
        if approve:
            excused += apply_excuse(actor, request)
        _publish("excuse.decided", request)
    return excused


def lessons_covered(request: ExcuseRequest) -> list[Lesson]:
    """The lessons a request covers: its recorded lessons, and every lesson of its announced
    days that the pupil attends (the class's, or a group's the pupil is in)."""
    lesson_ids = [i.lesson_id for i in request.items if i.lesson_id is not None]
    days = [i.date for i in request.items if i.lesson_id is None]
    clauses: list[ColumnElement[bool]] = []
    if lesson_ids:
        clauses.append(Lesson.id.in_(lesson_ids))
    if days:
        groups = select(GroupMembership.group_id).where(
            GroupMembership.pupil_id == request.pupil_id
        )
        clauses.append(
            Lesson.date.in_(days)
            & (Lesson.class_id == request.class_id)
            & or_(Lesson.group_id.is_(None), Lesson.group_id.in_(groups))
        )
    if not clauses:
        return []
    query = select(Lesson).where(or_(*clauses), Lesson.status != LessonStatus.CANCELLED)
    return list(db.session.scalars(query.order_by(Lesson.date, Lesson.slot_number)))


def unexcused_absences(request: ExcuseRequest) -> list[tuple[Lesson, Attendance]]:
    """Absences still unexcused in the lessons a request covers."""
    lessons = {lesson.id: lesson for lesson in lessons_covered(request)}
    if not lessons:
        return []
    records = db.session.scalars(
        select(Attendance)
        .join(AttendanceType, AttendanceType.id == Attendance.type_id)
        .where(
            Attendance.pupil_id == request.pupil_id,
            Attendance.lesson_id.in_(list(lessons)),
            AttendanceType.code.in_(list(EXCUSED_CODE)),
        )
    )
    return [(lessons[r.lesson_id], r) for r in records]


@operation
def apply_excuse(actor: Actor, request: ExcuseRequest) -> int:
    """Turns the covered absences of an approved request excused; returns how many.

    Run at approval, and again by the tutor once the lessons of a day announced ahead have had
    their roll (the absence is recorded only then)."""
    if request.status is not ExcuseStatus.APPROVED:
        raise Refusal("not_approved", _l("Ten wniosek nie został zatwierdzony."))
    changed = 0
    for lesson, record in unexcused_absences(request):
        excused = EXCUSED_CODE[record.type.code]
        result = submit_roll(
            actor, lesson, {request.pupil_id: excused}, base={request.pupil_id: record.type.code}
        )
        if result["states"][str(request.pupil_id)] == excused:  # not so if changed meanwhile
            changed += 1
    return changed
