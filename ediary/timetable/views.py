"""The lesson page: its roster with attendance and its topic; the teacher records the roll, the
school administrator may cancel the lesson.

The form carries what the page showed (a base per pupil, and the topic's): the roll names only
the pupils the teacher changed and applies each where the server still has the base. A change
made meanwhile by someone else (an excuse approved, a colleague's correction) is not overwritten:
the page shows it next to the teacher's choice, with who made it, and saving again is an
explicit decision (the base is then the server's value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ediary.access import roles
from ediary.audit.queries import CHANNEL_NAMES
from ediary.audit.recording import Actor
from ediary.db import db, utcnow
from ediary.diary.forms import RollForm
from ediary.diary.models import Attendance
from ediary.diary.operations import require_started, submit_roll
from ediary.diary.queries import attendance_types, default_type
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.people.models import User
from ediary.timetable.access import (
    load_lesson,
    load_lesson_for_cancelling,
    load_lesson_for_recording,
)
from ediary.timetable.forms import CancelLessonForm
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.operations import cancel_lesson
from ediary.timetable.queries import roster
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("timetable", __name__)


@bp.get("/lessons/<int:lesson_id>")
@login_required
def lesson(lesson_id: int) -> ResponseReturnValue:
    found = load_lesson(current_user, lesson_id)
    return _page(found, _shown_roll(found))


def _shown_roll(found: Lesson) -> RollForm:
    return RollForm(formdata=None, topic=found.topic, base_topic=found.topic or "")


@bp.post("/lessons/<int:lesson_id>")
@login_required
def record_roll(lesson_id: int) -> ResponseReturnValue:
    """One submission, one operation, one commit; a refusal saves nothing and says why."""
    found = load_lesson_for_recording(current_user, lesson_id)
    form = RollForm()
    pupils = roster(found)
    states = form.states(request.form, pupils)
    bases = form.bases(request.form, pupils)
    if not form.validate_on_submit():
        return _page(found, form, chosen=states, bases=bases), 400
    default = default_type(attendance_types(found.school_id).values())
    changed = form.changed(states, bases, default.code if default is not None else None)

    def roll(actor: Actor) -> dict[str, Any]:
        require_started(found, utcnow())
        return submit_roll(
            actor,
            found,
            changed,
            base={pupil_id: bases[pupil_id] for pupil_id in changed},
            topic=form.topic_for(),
            base_topic=form.shown_topic(),
        )

    def refused(refusal: Refusal) -> str:
        again = load_lesson(current_user, lesson_id)  # the rollback expired it
        return _page(again, form, chosen=states, bases=bases, refusal=refusal)

    def conflicts(result: dict[str, Any]) -> ResponseReturnValue | None:
        if not result["conflicts"]:
            return None
        # The rest is saved. The conflicting choices stay in the form, over the server's values
        # as their new base: saving again replaces what the other person saved, knowingly.
        kept = {c["pupil_id"]: c["wanted"] for c in result["conflicts"] if "pupil_id" in c}
        form.base_topic.data = found.topic or ""
        return _page(found, form, chosen=kept, conflicts=result["conflicts"]), 409

    return perform(
        roll,
        to=url_for(".lesson", lesson_id=found.id),
        message=_("Zapisano obecność i temat lekcji."),
        refused=refused,
        then=conflicts,
    )


@bp.post("/lessons/<int:lesson_id>/cancel")
@login_required
def cancel(lesson_id: int) -> ResponseReturnValue:
    """The school administrator cancels a planned lesson; the class's parents see it at once.

    The example to copy for a console page (README.md, "Adding a page"): load through the
    loader (404 outside the scope), hand `perform` the one operation, re-render the page on a
    refusal with what was sent.
    """
    found = load_lesson_for_cancelling(current_user, lesson_id)
    form = CancelLessonForm()

    def cancel_it(actor: Actor) -> Lesson:
        if not form.confirm.data:
            raise Refusal("not_confirmed", _("Zaznacz „Tak, odwołaj tę lekcję”, aby ją odwołać."))
        return cancel_lesson(actor, found, base_version=_version(form.version.data))

    def refused(refusal: Refusal) -> str:
        again = load_lesson(current_user, lesson_id)  # the rollback expired it
        return _page(again, _shown_roll(again), cancel_form=form, refusal=refusal)

    return perform(
        cancel_it,
        to=url_for(".lesson", lesson_id=found.id),
        message=_("Lekcja została odwołana. Rodzice uczniów klasy już to widzą."),
        refused=refused,
    )


def _version(sent: str | None) -> int | None:
    """The version the page showed; none sent: no comparison (the operation is idempotent)."""
    if not sent:
        return None
    version = parse_id(sent)
    if version is None:
        raise Refusal("invalid", _("Nieprawidłowe dane formularza. Odśwież stronę."))
    return version


def _page(
    found: Lesson,
    form: RollForm,
    *,
    chosen: Mapping[int, str] | None = None,
    bases: Mapping[int, str | None] | None = None,
    refusal: Refusal | None = None,
    conflicts: Sequence[dict[str, Any]] = (),
    cancel_form: CancelLessonForm | None = None,
) -> str:
    user: User = current_user
    if roles.is_school_admin(user, found.school_id) and found.status is LessonStatus.PLANNED:
        cancel_form = cancel_form or CancelLessonForm(formdata=None)
        cancel_form.version.data = str(found.version)  # what this page shows, after any refusal
    else:
        cancel_form = None
    recorded = {
        a.pupil_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.lesson_id == found.id))
    }
    teacher = db.session.get(User, found.teacher_id)
    types = attendance_types(found.school_id)
    default = default_type(types.values())
    not_started = None
    try:
        require_started(found, utcnow())
    except Refusal as waiting:
        not_started = waiting.message
    pupils = roster(found)
    return render_template(
        "timetable/lesson.html",
        lesson=found,
        teacher=teacher,
        pupils=pupils,
        recorded=recorded,
        chosen=chosen or {},
        bases=bases if bases is not None else {p: a.type.code for p, a in recorded.items()},
        types=list(types.values()),
        default_code=default.code if default is not None else "",
        form=form,
        editable=roles.can_record_in_lesson(user, found) and not_started is None,
        not_started=not_started,
        refusal=refusal,
        nothing_saved=True,  # the roll saves what does not conflict: a refusal says it did not
        conflicts=_readable(conflicts, types, {p.id: p.full_name for p in pupils}),
        cancel_form=cancel_form,
    )


def _readable(
    conflicts: Sequence[dict[str, Any]], types: Mapping[str, Any], names: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Conflicts as the page says them: names instead of ids and codes."""

    def state(code: str | None) -> str:
        found = types.get(code) if code is not None else None
        if found is None:
            return code or _("nic nie zapisano")
        return f"{found.name} ({found.code})"

    readable = []
    for conflict in conflicts:
        topic = conflict.get("field") == "topic"
        readable.append(
            {
                "pupil_id": conflict.get("pupil_id"),
                "what": _("temat lekcji") if topic else names.get(conflict["pupil_id"], "?"),
                "wanted": conflict["wanted"] if topic else state(conflict["wanted"]),
                "server": (conflict["server"] or "—") if topic else state(conflict["server"]),
                "by": conflict["by"] or _("system"),
                "at": dt.datetime.fromisoformat(conflict["at"]) if conflict["at"] else None,
                "channel": CHANNEL_NAMES.get(conflict["channel"] or "", conflict["channel"]),
            }
        )
    return readable
