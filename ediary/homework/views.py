"""The teacher's pages: announce a test or homework for a lesson, correct or withdraw it, and the
list of their announcements (reached from the start page and from each lesson page)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound
from wtforms.fields.choices import SelectChoice

from ediary.db import utcnow
from ediary.errors import Refusal
from ediary.homework.access import load_own_homework, load_own_lesson, load_target_lesson
from ediary.homework.forms import KIND_NAMES, HomeworkForm, WithdrawForm
from ediary.homework.models import Homework, HomeworkKind
from ediary.homework.operations import announce, change_homework, withdraw_homework
from ediary.homework.queries import announced_by, history_of, lessons_to_choose, of_lesson
from ediary.people.models import Role
from ediary.schools.queries import school_today
from ediary.timetable.models import Lesson
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("homework", __name__)
ZONE = ZoneInfo("Europe/Warsaw")  # the list's "today" (schools are in Poland)


def _today(lesson: Lesson) -> dt.date:
    return school_today(lesson.school_class.school)


def _choices(form: HomeworkForm, lesson: Lesson, today: dt.date) -> None:
    form.lesson.choices = [
        SelectChoice(
            str(choice.id),
            f"{format_date(choice.date, 'EEE d.MM')}, {_('lekcja %(n)s', n=choice.slot_number)}",
        )
        for choice in lessons_to_choose(current_user, lesson, today)
    ]


def _kind(form: HomeworkForm) -> HomeworkKind:
    try:
        return HomeworkKind(form.kind.data)
    except ValueError:
        raise NotFound() from None


def _form_page(
    lesson: Lesson,
    form: HomeworkForm,
    *,
    homework: Homework | None = None,
    refusal: Refusal | None = None,
) -> str:
    return render_template(
        "homework/form.html",
        lesson=lesson,
        form=form,
        homework=homework,
        refusal=refusal,
        warnings=refusal.details.get("warnings") if refusal is not None else None,
        announced=of_lesson(lesson) if homework is None else [],
        history=history_of(homework) if homework is not None else [],
        withdraw=WithdrawForm(formdata=None, version=homework.version) if homework else None,
        kind_names=KIND_NAMES,
    )


@bp.route("/lessons/<int:lesson_id>/homework", methods=["GET", "POST"])
@login_required
def new(lesson_id: int) -> ResponseReturnValue:
    lesson = load_own_lesson(current_user, lesson_id)
    today = _today(lesson)
    form = HomeworkForm(lesson=str(lesson.id))
    _choices(form, lesson, today)
    if not form.is_submitted():
        return _form_page(lesson, form)
    if not form.validate():
        return _form_page(lesson, form), 400
    target = load_target_lesson(current_user, lesson, form.lesson.data)
    kind = _kind(form)

    def refused(refusal: Refusal) -> str:
        form.confirm.data = False  # a warning is confirmed by a fresh tick, never by default
        return _form_page(load_own_lesson(current_user, lesson_id), form, refusal=refusal)

    return perform(
        lambda actor: announce(
            actor,
            target,
            kind=kind,
            description=form.description.data or "",
            due_date=form.due_date.data,
            today=today,
            confirm=bool(form.confirm.data),
        ),
        to=url_for("homework.mine"),
        message=_("Zapowiedź zapisana: rodzice już ją widzą."),
        refused=refused,
    )


@bp.route("/homework/<int:homework_id>", methods=["GET", "POST"])
@login_required
def edit(homework_id: int) -> ResponseReturnValue:
    homework = load_own_homework(current_user, homework_id)
    lesson = homework.lesson
    today = _today(lesson)
    form = HomeworkForm(
        kind=homework.kind.value,
        lesson=str(lesson.id),
        description=homework.description,
        due_date=homework.due_date,
        version=str(homework.version),
    )
    _choices(form, lesson, today)
    if not form.is_submitted():
        return _form_page(lesson, form, homework=homework)
    if not form.validate() or not (form.version.data or "").isdigit():
        return _form_page(lesson, form, homework=homework), 400
    target = load_target_lesson(current_user, lesson, form.lesson.data)
    kind = _kind(form)
    base = int(form.version.data or 0)

    def refused(refusal: Refusal) -> str:
        form.confirm.data = False
        again = load_own_homework(current_user, homework_id)
        return _form_page(again.lesson, form, homework=again, refusal=refusal)

    return perform(
        lambda actor: change_homework(
            actor,
            homework,
            base_version=base,
            lesson=target,
            kind=kind,
            description=form.description.data or "",
            due_date=form.due_date.data,
            today=today,
            confirm=bool(form.confirm.data),
        ),
        to=url_for("homework.mine"),
        message=_("Zapowiedź poprawiona: rodzice widzą zmianę."),
        refused=refused,
    )


@bp.post("/homework/<int:homework_id>/withdraw")
@login_required
def withdraw(homework_id: int) -> ResponseReturnValue:
    homework = load_own_homework(current_user, homework_id)
    form = WithdrawForm()
    if not form.validate() or not (form.version.data or "").isdigit():
        raise NotFound()
    base = int(form.version.data or 0)

    def refused(refusal: Refusal) -> str:
        again = load_own_homework(current_user, homework_id)
        edit_form = HomeworkForm(
            formdata=None,
            kind=again.kind.value,
            lesson=str(again.lesson_id),
            description=again.description,
            due_date=again.due_date,
            version=str(again.version),
        )
        _choices(edit_form, again.lesson, _today(again.lesson))
        return _form_page(again.lesson, edit_form, homework=again, refusal=refusal)

    return perform(
        lambda actor: withdraw_homework(actor, homework, base_version=base),
        to=url_for("homework.mine"),
        message=_("Zapowiedź odwołana."),
        refused=refused,
    )


@bp.get("/teacher/homework")
@login_required
def mine() -> ResponseReturnValue:
    """The teacher's announcements from today on, and their lessons to announce for."""
    if not any(m.role == Role.TEACHER for m in current_user.memberships):
        raise NotFound()
    today = utcnow().astimezone(ZONE).date()
    return render_template(
        "homework/mine.html",
        announced=announced_by(current_user, today),
        kind_names=KIND_NAMES,
    )
