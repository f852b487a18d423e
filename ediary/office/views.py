"""The office's pages (issue 13): the secretary's start page with search, the pupil register,
a pupil's record with its forms for particulars and movements (the guardians' forms are in
`guardian_views.py`), the movements register.

Each page loads what it names through `ediary.office.access` (404 outside the school) and runs
one operation through `perform` (one commit; a refusal shows the form again, with what was
typed and the reason).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ediary.audit.recording import Actor
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.office import forms
from ediary.office.access import (
    load_office,
    load_register_pupil,
)
from ediary.office.movements import (
    former_guardians,
    record_leaving,
    record_return,
    transfer_pupil,
)
from ediary.office.operations import (
    add_guardian,
    edit_pupil,
    register_pupil,
)
from ediary.office.queries import (
    RELATION_NAMES,
    classes_of,
    groups_by_class,
    movements_of,
    office_today,
    register_of,
)
from ediary.office.record import (
    chosen_class,
    chosen_groups,
    on_record,
    record_page,
    version_seen,
)
from ediary.office.search import search as find
from ediary.people.queries import today
from ediary.schools.models import Pupil, School
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("office", __name__, url_prefix="/office")


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
        of = chosen_class(school.id)
        admitted = forms.date(request.form, "admitted_on", required=True, label=_("data przyjęcia"))
        assert admitted is not None
        pupil = register_pupil(
            actor, of, forms.particulars(request.form), admitted, chosen_groups(of)
        )
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


@bp.get("/pupils/<int:pupil_id>")
@login_required
def pupil(pupil_id: int) -> ResponseReturnValue:
    return record_page(load_register_pupil(current_user, pupil_id))


@bp.post("/pupils/<int:pupil_id>")
@login_required
def edit(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)
    return on_record(
        found,
        "particulars",
        lambda actor: edit_pupil(actor, found, forms.particulars(request.form), version_seen()),
        message=_("Zapisano dane ucznia."),
    )


@bp.post("/pupils/<int:pupil_id>/transfer")
@login_required
def transfer(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)

    def transfer_chosen(actor: Actor) -> Pupil:
        of = chosen_class(found.school_id)
        return transfer_pupil(actor, found, of, chosen_groups(of), version_seen())

    return on_record(
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
        return record_leaving(actor, found, left, reason, version_seen())

    return on_record(
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
            actor, found, back, chosen_class(found.school_id), [u for u in chosen if u is not None]
        )

    return on_record(
        found,
        "return",
        return_on,
        message=_("Zapisano powrót ucznia."),
    )
