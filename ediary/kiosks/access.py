"""What a kiosk may touch, as loaders: they return the object or refuse as if it did not exist.

The rule for lessons (written down in docs/protocol.md, "What a kiosk may record"):
a kiosk records a lesson when
  1. the lesson is in the kiosk's school and **in the kiosk's room** (DESIGN.md: a kiosk's scope
     is its room's lessons). The room is the lesson's room *now*: a lesson moved to this room
     for the day is recorded here, a lesson moved away is not;
  2. the logged-in teacher is the one who teaches it now, `roles.can_record_in_lesson`
     (a substitute after a substitution, no longer the timetable's teacher);
  3. the lesson is dated on the day of the teacher's kiosk session (the school-local date of
     the full login): the kiosk works on today's lessons, and entries it kept through a network
     outage may still arrive later (up to `LATE_SYNC_DAYS`, see `load_teacher_session`).
A lesson that fails 1-3 is `not_found`; the teacher's own lesson here that was cancelled is
refused with `lesson_cancelled` instead (the teacher sees it in their list, so the cancellation
is no secret, and the reason helps).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from ediary.access import roles
from ediary.db import db
from ediary.diary.models import Grade, GradeCategory, Remark
from ediary.errors import Refusal
from ediary.kiosks.auth import session_id_of, session_token, verify_session_token
from ediary.kiosks.models import EnrollmentCode, Kiosk, KioskTeacherSession
from ediary.kiosks.operations import CODE_INVALID, code_digest
from ediary.kiosks.queries import school_of, school_today
from ediary.people.auth import may_log_in
from ediary.people.models import Role, User
from ediary.realtime.controls import REVOKED_KIOSK_TEXT
from ediary.schools.models import Pupil
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.queries import roster_pupil

LATE_SYNC_DAYS = 7


class DeviceRefused(Refusal):
    """The socket's kiosk was revoked or enrolled again since it connected."""

    status = 401


def check_device(kiosk: Kiosk | None, device: dict[str, Any]) -> Kiosk:
    """The kiosk read for a socket's device (`{"kiosk_id", "secret_hash"}` as it connected;
    None: no such row), if it is still that device: not revoked, not enrolled again since."""
    if kiosk is None or kiosk.revoked_at is not None or kiosk.secret_hash != device["secret_hash"]:
        raise DeviceRefused("kiosk_revoked", REVOKED_KIOSK_TEXT)
    return kiosk


class SessionEnded(Refusal):
    """The teacher's kiosk session is unknown, over, or no longer backed by a valid account."""

    status = 401

    def __init__(self, reason: str) -> None:
        super().__init__(
            "session_ended",
            _l("Sesja nauczyciela zakończyła się. Zaloguj się ponownie."),
            reason=reason,
        )


def load_enrollment_code(code: str) -> EnrollmentCode:
    """The code's row, locked for this transaction so that two racing uses cannot both win."""
    query = select(EnrollmentCode).where(EnrollmentCode.code_hash == code_digest(code))
    row = db.session.scalars(query.with_for_update()).first()
    if row is None:
        raise Refusal("code_invalid", CODE_INVALID)
    return row


def token_of(session_row: KioskTeacherSession) -> str:
    return session_token(current_app.config["SECRET_KEY"], session_row.id, session_row.nonce)


def load_teacher_session(
    kiosk: Kiosk, token: str, now: dt.datetime, *, for_entries: bool = False
) -> tuple[KioskTeacherSession, User]:
    """The teacher's session on this kiosk behind `token`, and the teacher (`check_teacher_session`
    says when they are refused)."""
    session_id = session_id_of(token)
    row, teacher = _session_with_teacher(session_id) if session_id is not None else (None, None)
    return check_teacher_session(kiosk, token, row, teacher, now, for_entries=for_entries)


def check_teacher_session(
    kiosk: Kiosk,
    token: str,
    row: KioskTeacherSession | None,
    teacher: User | None,
    now: dt.datetime,
    *,
    for_entries: bool = False,
) -> tuple[KioskTeacherSession, User]:
    """The session row read for `token` (None: no such row) and its teacher, if they may act.

    For reading and unlocking, the session must be open: not ended, not past its hard logout,
    not locked, and the account unchanged since the login (a password change or a disabled
    account ends it, like every web session: ASVS 7.4.2, 8.3.2).

    For entries (`for_entries`), the session only vouches that the teacher logged in on this
    kiosk that day: an entry typed before a lock, a logout or three wrong PINs, or kept through
    a network outage, is still theirs and is accepted when it arrives, up to `LATE_SYNC_DAYS`
    later. The account must still be active and a teacher of the school.
    """
    if (
        row is None
        or row.kiosk_id != kiosk.id
        or not verify_session_token(current_app.config["SECRET_KEY"], token, row.id, row.nonce)
    ):
        raise SessionEnded("unknown")
    if (
        teacher is None
        or not may_log_in(teacher)
        or not roles.has_school_role(teacher, kiosk.school_id, Role.TEACHER)
    ):
        raise SessionEnded("account")
    if for_entries:
        if row.day < school_today(school_of(kiosk), now) - dt.timedelta(days=LATE_SYNC_DAYS):
            raise SessionEnded("too_old")
        return row, teacher
    if row.ended_at is not None:
        raise SessionEnded(row.ended_reason or "ended")
    if now >= row.expires_at:
        raise SessionEnded("expired")
    if teacher.session_version != row.user_version:
        raise SessionEnded("account")
    if row.locked_at is not None:
        raise SessionEnded("locked")
    return row, teacher


@functools.cache
def _session_query() -> Select[KioskTeacherSession, User]:
    # Built once, run with the id as a parameter: building it per event cost more than running it.
    return (
        select(KioskTeacherSession, User)
        .outerjoin(User, User.id == KioskTeacherSession.teacher_id)
        .where(KioskTeacherSession.id == bindparam("session_id"))
        .options(joinedload(User.memberships))
    )


def _session_with_teacher(session_id: int) -> tuple[KioskTeacherSession | None, User | None]:
    """The session row, its teacher and the teacher's memberships in one statement: every kiosk
    event checks them, and three round trips were a fifth of a remark's statements."""
    found = db.session.execute(_session_query(), {"session_id": session_id}).unique().first()
    return (found[0], found[1]) if found is not None else (None, None)


def live_session_of(kiosk: Kiosk, teacher_id: int, now: dt.datetime) -> KioskTeacherSession | None:
    """The teacher's day on this kiosk that a PIN may reopen: not ended, not past its logout."""
    query = (
        select(KioskTeacherSession)
        .where(
            KioskTeacherSession.kiosk_id == kiosk.id,
            KioskTeacherSession.teacher_id == teacher_id,
            KioskTeacherSession.ended_at.is_(None),
            KioskTeacherSession.expires_at > now,
        )
        .order_by(KioskTeacherSession.id.desc())
    )
    return db.session.scalars(query).first()


def load_kiosk_lesson(kiosk: Kiosk, session_row: KioskTeacherSession, lesson_id: int) -> Lesson:
    return check_kiosk_lesson(kiosk, session_row, db.session.get(Lesson, lesson_id))


def check_kiosk_lesson(
    kiosk: Kiosk, session_row: KioskTeacherSession, lesson: Lesson | None
) -> Lesson:
    """The lesson read for an id (None: no such lesson), if this kiosk's session may record it
    (the module's rule)."""
    if (
        lesson is None
        or lesson.school_id != kiosk.school_id
        or lesson.room_id != kiosk.room_id
        or lesson.teacher_id != session_row.teacher_id
        or lesson.date != session_row.day
    ):
        raise NotFound()
    if lesson.status is LessonStatus.CANCELLED:
        raise Refusal("lesson_cancelled", _l("Ta lekcja została odwołana."))
    teacher = db.session.get(User, session_row.teacher_id)
    if teacher is None or not roles.can_record_in_lesson(teacher, lesson):
        raise NotFound()
    return lesson


def load_pupil_in_lesson(lesson: Lesson, pupil_id: int) -> Pupil:
    pupil = roster_pupil(lesson, pupil_id)
    if pupil is None:
        raise NotFound()
    return pupil


def load_own_grade(teacher: User, lesson: Lesson, grade_id: int) -> Grade:
    """A grade this teacher gave in the lesson's subject to a pupil on the lesson's roster."""
    grade = db.session.get(Grade, grade_id)
    if (
        grade is None
        or grade.school_id != lesson.school_id
        or grade.teacher_id != teacher.id
        or grade.subject_id != lesson.subject_id
    ):
        raise NotFound()
    load_pupil_in_lesson(lesson, grade.pupil_id)
    return grade


def load_improved_grade(lesson: Lesson, pupil: Pupil, grade_id: int) -> Grade:
    """The grade a poprawa improves: any teacher's, but this pupil's, in this subject."""
    grade = db.session.get(Grade, grade_id)
    if grade is None or grade.pupil_id != pupil.id or grade.subject_id != lesson.subject_id:
        raise NotFound()
    return grade


def load_own_remark(teacher: User, lesson: Lesson, remark_id: int) -> Remark:
    remark = db.session.get(Remark, remark_id)
    if remark is None or remark.school_id != lesson.school_id or remark.teacher_id != teacher.id:
        raise NotFound()
    load_pupil_in_lesson(lesson, remark.pupil_id)
    return remark


def load_category(lesson: Lesson, category_id: int) -> GradeCategory:
    category = db.session.get(GradeCategory, category_id)
    if category is None or category.school_id != lesson.school_id:
        raise Refusal("category_unknown", _l("Nieznana kategoria oceny."))
    return category
