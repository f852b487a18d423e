"""The office's pages (issue 13): the secretary's start page with search, the pupil register,
a pupil's record with its forms (particulars, movements, guardians), the movements register.

Each page loads what it names through `ediary.office.access` (404 outside the school) and runs
one operation through `perform` (one commit; a refusal shows the form again, with what was
typed and the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ediary.audit.recording import Actor
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.office import forms
from ediary.office.access import (
    class_groups,
    load_link,
    load_office,
    load_register_pupil,
    school_class,
    school_guardian,
)
from ediary.office.movements import (
    former_guardians,
    record_leaving,
    record_return,
    transfer_pupil,
)
from ediary.office.operations import (
    add_guardian,
    edit_guardian,
    edit_pupil,
    link_existing_guardian,
    register_pupil,
    resend_access,
)
from ediary.office.queries import (
    RELATION_NAMES,
    classes_of,
    groups_by_class,
    movements_of,
    office_today,
    record_of,
    register_of,
)
from ediary.office.search import search as find
from ediary.people.models import User
from ediary.people.queries import today
from ediary.schools.models import ClassGroup, Pupil, School, SchoolClass
from ediary.schools.operations import unlink_guardian
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("office", __name__, url_prefix="/office")
R = TypeVar("R")


def _class(school_id: int, field: str = "class_id") -> SchoolClass:
    found = school_class(school_id, request.form.get(field, ""))
    if found is None:
        raise Refusal("class_unknown", _("Wybierz klasę tej szkoły."))
    return found


def _groups(of: SchoolClass) -> list[ClassGroup]:
    found = class_groups(of, request.form.getlist("group_id"))
    if found is None:
        raise Refusal("group_other_class", _("Ta grupa nie należy do tej klasy."))
    return found


def _version() -> int:
    return parse_id(request.form.get("version", "")) or 0


# --- the start page and search ------------------------------------------------------------------


@bp.get("/<int:school_id>")
@login_required
def start(school_id: int) -> ResponseReturnValue:
    school = load_office(current_user, school_id)
    return render_template("office/start.html", school=school, todos=office_today(school))


@bp.post("/<int:school_id>/search")
@login_required
def search(school_id: int) -> ResponseReturnValue:
    """POST, not GET: the query is a child's name or PESEL, and a GET would carry it in the URL,
    which lands in the server's and proxies' access logs, the browser's history and bookmarks.
    A form body is logged nowhere. The script (static/js/office.js) asks for the results alone
    while the person types; without a script, the same form answers with the whole page."""
    school = load_office(current_user, school_id)
    found = find(school, forms.text(request.form, "q", 200) if "q" in request.form else "")
    if request.headers.get("X-Requested-With") == "fetch":
        return render_template("office/_results.html", school=school, found=found)
    return render_template(
        "office/start.html", school=school, todos=office_today(school), found=found
    )


# --- the register (księga uczniów) --------------------------------------------------------------


@bp.get("/<int:school_id>/register")
@login_required
def register(school_id: int) -> ResponseReturnValue:
    school = load_office(current_user, school_id)
    return render_template("office/register.html", school=school, rows=register_of(school))


@bp.get("/<int:school_id>/movements")
@login_required
def movements(school_id: int) -> ResponseReturnValue:
    school = load_office(current_user, school_id)
    return render_template("office/movements.html", school=school, lines=movements_of(school))


def _new_pupil_page(school: School, refusal: Refusal | None = None) -> str:
    return render_template(
        "office/new_pupil.html",
        school=school,
        classes=classes_of(school),
        groups=groups_by_class(school),
        relations=RELATION_NAMES,
        refusal=refusal,
        values=forms.values(request.form) if refusal else {"admitted_on": today().isoformat()},
        chosen_groups=set(request.form.getlist("group_id")),
    )


@bp.route("/<int:school_id>/pupils/new", methods=["GET", "POST"])
@login_required
def new_pupil(school_id: int) -> ResponseReturnValue:
    school = load_office(current_user, school_id)
    if request.method == "GET":
        return _new_pupil_page(school)

    def register_with_guardian(actor: Actor) -> Pupil:
        of = _class(school.id)
        admitted = forms.date(request.form, "admitted_on", required=True, label=_("data przyjęcia"))
        assert admitted is not None
        pupil = register_pupil(actor, of, forms.particulars(request.form), admitted, _groups(of))
        if (
            forms.text(request.form, "g_first_name").strip()
            or forms.text(request.form, "g_last_name").strip()
        ):
            add_guardian(actor, pupil, forms.guardian(request.form))
        return pupil

    return perform(
        register_with_guardian,
        to=url_for("office.register", school_id=school.id),
        message=_("Uczeń został wpisany do księgi uczniów."),
        refused=lambda refusal: _new_pupil_page(school, refusal),
        then=lambda pupil: _redirect_to_record(pupil),
    )


def _redirect_to_record(pupil: Pupil) -> ResponseReturnValue:
    """To the new pupil's record (its id is known only now); a form sent twice goes to the
    register instead, where the pupil is listed once."""
    flash(_("Uczeń został wpisany do księgi uczniów."), "info")
    return redirect(url_for("office.pupil", pupil_id=pupil.id))


# --- a pupil's record ---------------------------------------------------------------------------


def _record_page(
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


@bp.get("/pupils/<int:pupil_id>")
@login_required
def pupil(pupil_id: int) -> ResponseReturnValue:
    return _record_page(load_register_pupil(current_user, pupil_id))


def _on_record(
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
        refused=lambda refusal: _record_page(pupil, refusal, failed),
        message=message,
        then=then,
    )


@bp.post("/pupils/<int:pupil_id>")
@login_required
def edit(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)
    return _on_record(
        found,
        "particulars",
        lambda actor: edit_pupil(actor, found, forms.particulars(request.form), _version()),
        message=_("Zapisano dane ucznia."),
    )


@bp.post("/pupils/<int:pupil_id>/transfer")
@login_required
def transfer(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)

    def transfer_chosen(actor: Actor) -> Pupil:
        of = _class(found.school_id)
        return transfer_pupil(actor, found, of, _groups(of), _version())

    return _on_record(
        found,
        "transfer",
        transfer_chosen,
        message=_("Zapisano klasę i grupy ucznia. Rodzice już to widzą."),
    )


@bp.post("/pupils/<int:pupil_id>/leave")
@login_required
def leave(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)

    def leave_on(actor: Actor) -> Pupil:
        left = forms.date(request.form, "left_on", required=True, label=_("data odejścia"))
        assert left is not None
        reason = forms.text(request.form, "leave_reason")
        return record_leaving(actor, found, left, reason, _version())

    return _on_record(
        found,
        "leave",
        leave_on,
        message=_("Zapisano odejście ucznia. Opiekunowie nie mają już dostępu do jego danych."),
    )


@bp.post("/pupils/<int:pupil_id>/return")
@login_required
def come_back(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)

    def return_on(actor: Actor) -> Pupil:
        back = forms.date(request.form, "returned_on", required=True, label=_("data powrotu"))
        assert back is not None
        # Only the pupil's former guardians (from the history) may be chosen: any other id,
        # another school's included, is refused by `record_return`.
        former = {u.id: u for u in former_guardians(found)}
        chosen = [former.get(parse_id(raw) or 0) for raw in request.form.getlist("relink")]
        if any(u is None for u in chosen):
            raise Refusal("guardian_unknown", _("Można przywrócić tylko dawnych opiekunów ucznia."))
        return record_return(
            actor, found, back, _class(found.school_id), [u for u in chosen if u is not None]
        )

    return _on_record(
        found,
        "return",
        return_on,
        message=_("Zapisano powrót ucznia."),
    )


# --- guardians ----------------------------------------------------------------------------------


@bp.post("/pupils/<int:pupil_id>/guardians")
@login_required
def new_guardian(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)
    return _on_record(
        found,
        "guardian",
        lambda actor: add_guardian(actor, found, forms.guardian(request.form)),
        message=_("Zapisano rodzica lub opiekuna."),
    )


@bp.post("/pupils/<int:pupil_id>/guardians/find")
@login_required
def find_guardian(pupil_id: int) -> ResponseReturnValue:
    """Guardians of the school by name or e-mail, to link one to this child (a sibling's)."""
    found = load_register_pupil(current_user, pupil_id)
    query = forms.text(request.form, "q", 200) if "q" in request.form else ""
    record = record_of(found)
    linked = {user.id for user, _link in record.guardians}
    result = find(found.school_class.school, query)
    candidates = [u for u in result.guardians if u.id not in linked]
    return _record_page(found, candidates=candidates)


@bp.post("/pupils/<int:pupil_id>/guardians/link")
@login_required
def link(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)

    def link_chosen(actor: Actor) -> object:
        user = school_guardian(found.school_class.school, request.form.get("guardian_id", ""))
        if user is None:
            raise Refusal("guardian_unknown", _("Wybierz opiekuna z listy znalezionych."))
        return link_existing_guardian(actor, found, user, forms.relation(request.form))

    return _on_record(
        found,
        "link",
        link_chosen,
        message=_("Opiekun ma teraz dostęp także do danych tego dziecka."),
    )


@bp.post("/pupils/<int:pupil_id>/guardians/<int:user_id>")
@login_required
def guardian(pupil_id: int, user_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)
    user, link_row = load_link(current_user, found, user_id)
    return _on_record(
        found,
        f"guardian-{user.id}",
        lambda actor: edit_guardian(
            actor,
            link_row,
            user,
            forms.guardian_edit(request.form),
            forms.guardian_edit(request.form, "seen_"),
        ),
        message=_("Zapisano dane opiekuna."),
    )


@bp.post("/pupils/<int:pupil_id>/guardians/<int:user_id>/unlink")
@login_required
def unlink(pupil_id: int, user_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)
    user, _link = load_link(current_user, found, user_id)
    return _on_record(
        found,
        f"guardian-{user.id}",
        lambda actor: unlink_guardian(actor, user, found),
        message=_("Opiekun nie ma już dostępu do danych tego dziecka."),
    )


@bp.post("/pupils/<int:pupil_id>/guardians/<int:user_id>/access")
@login_required
def access(pupil_id: int, user_id: int) -> ResponseReturnValue:
    """A new activation code, shown once on the page that answers (not stored in plain)."""
    found = load_register_pupil(current_user, pupil_id)
    user, _link = load_link(current_user, found, user_id)
    return _on_record(
        found,
        f"guardian-{user.id}",
        lambda actor: resend_access(actor, user),
        then=lambda code: render_template(
            "office/access_code.html",
            school=found.school_class.school,
            pupil=found,
            user=user,
            code=code,
        ),
    )
