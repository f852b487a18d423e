"""The lesson page: its roster with attendance and its topic; the teacher records the roll."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ediary.access import roles
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.forms import RollForm
from ediary.diary.models import Attendance
from ediary.diary.operations import attendance_types, submit_roll
from ediary.errors import Refusal
from ediary.people.models import User
from ediary.timetable.access import load_lesson, load_lesson_for_recording
from ediary.timetable.models import Lesson
from ediary.timetable.queries import roster

bp = Blueprint("timetable", __name__)


@bp.get("/lessons/<int:lesson_id>")
@login_required
def lesson(lesson_id: int) -> ResponseReturnValue:
    found = load_lesson(current_user, lesson_id)
    return _page(found, RollForm(topic=found.topic))


@bp.post("/lessons/<int:lesson_id>")
@login_required
def record_roll(lesson_id: int) -> ResponseReturnValue:
    """One submission, one operation, one commit; a refusal saves nothing and says why."""
    found = load_lesson_for_recording(current_user, lesson_id)
    form = RollForm()
    pupils = roster(found)
    states = form.states(request.form, pupils)
    if not form.validate_on_submit():
        return _page(found, form, chosen=states), 400
    actor = Actor(current_user._get_current_object(), Channel.WEB)
    try:
        submit_roll(actor, found, states, topic=form.topic_for(found.topic))
    except Refusal as refusal:
        db.session.rollback()
        found = load_lesson(current_user, lesson_id)  # the rollback expired it
        return _page(found, form, chosen=states, refusal=refusal), refusal.status
    db.session.commit()
    flash(_("Zapisano obecność i temat lekcji."), "info")
    return redirect(url_for(".lesson", lesson_id=found.id))


def _page(
    found: Lesson,
    form: RollForm,
    *,
    chosen: Mapping[int, str] | None = None,
    refusal: Refusal | None = None,
) -> str:
    user: User = current_user
    recorded = {
        a.pupil_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.lesson_id == found.id))
    }
    teacher = db.session.get(User, found.teacher_id)
    return render_template(
        "timetable/lesson.html",
        lesson=found,
        teacher=teacher,
        pupils=roster(found),
        recorded=recorded,
        chosen=chosen or {},
        types=list(attendance_types(found.school_id).values()),
        form=form,
        editable=roles.can_record_in_lesson(user, found),
        refusal=refusal,
    )
