"""What the pupil's record page and its forms share: the page itself (shown again with a refusal
next to the form that was sent), `perform` for its forms, and the class and groups a form names."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ediary.audit.recording import Actor
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.office import forms
from ediary.office.access import class_groups, school_class
from ediary.office.queries import (
    RELATION_NAMES,
    classes_of,
    groups_by_class,
    record_of,
)
from ediary.people.models import User
from ediary.people.queries import today
from ediary.schools.models import ClassGroup, Pupil, SchoolClass
from ediary.web.pages import perform

R = TypeVar("R")


def chosen_class(school_id: int, field: str = "class_id") -> SchoolClass:
    found = school_class(school_id, request.form.get(field, ""))
    if found is None:
        raise Refusal("class_unknown", _("Wybierz klasę tej szkoły."))
    return found


def chosen_groups(of: SchoolClass) -> list[ClassGroup]:
    found = class_groups(of, request.form.getlist("group_id"))
    if found is None:
        raise Refusal("group_other_class", _("Ta grupa nie należy do tej klasy."))
    return found


def version_seen() -> int:
    return parse_id(request.form.get("version", "")) or 0


def record_page(
    pupil: Pupil,
    refusal: Refusal | None = None,
    failed: str | None = None,
    candidates: list[User] | None = None,
) -> str:
    school = pupil.school_class.school
    return render_template(
        "office/pupil.html",
        school=school,
        record=record_of(pupil),
        classes=classes_of(school),
        groups=groups_by_class(school),
        relations=RELATION_NAMES,
        refusal=refusal,
        failed=failed,
        values=forms.values(request.form) if refusal else {},
        candidates=candidates,
        today=today(),
    )


def on_record(
    pupil: Pupil,
    failed: str,
    operation: Callable[[Actor], R],
    message: str | None = None,
    then: Callable[[R], ResponseReturnValue | None] | None = None,
) -> ResponseReturnValue:
    """`perform` for a form of the record page: back to the record, or the record again with
    the refusal next to the form that was sent (`failed`) and what was typed in it."""
    return perform(
        operation,
        to=url_for("office.pupil", pupil_id=pupil.id),
        refused=lambda refusal: record_page(pupil, refusal, failed),
        message=message,
        then=then,
    )
