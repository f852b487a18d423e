"""The guardians' forms on a pupil's record (issue 13 item 4): a guardian added (with access, or a
parent recorded without), a sibling's guardian found and linked, particulars and contacts edited,
unlinked, access sent again. Each answers as the record page's other forms do (`on_record`).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ediary.audit.recording import Actor
from ediary.errors import Refusal
from ediary.office import forms
from ediary.office.access import (
    load_link,
    load_recorded_parent,
    load_register_pupil,
    school_guardian,
)
from ediary.office.operations import (
    add_guardian,
    edit_guardian,
    edit_recorded_parent,
    link_existing_guardian,
    resend_access,
)
from ediary.office.queries import (
    record_of,
)
from ediary.office.record import (
    on_record,
    record_page,
)
from ediary.office.search import search as find
from ediary.schools.operations import unlink_guardian
from ediary.web.auth import login_required

bp = Blueprint("office_guardians", __name__, url_prefix="/office")


@bp.post("/pupils/<int:pupil_id>/guardians")
@login_required
def new_guardian(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)
    return on_record(
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
    return record_page(found, candidates=candidates)


@bp.post("/pupils/<int:pupil_id>/guardians/link")
@login_required
def link(pupil_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)

    def link_chosen(actor: Actor) -> object:
        user = school_guardian(found.school_class.school, request.form.get("guardian_id", ""))
        if user is None:
            raise Refusal("guardian_unknown", _("Wybierz opiekuna z listy znalezionych."))
        return link_existing_guardian(actor, found, user, forms.relation(request.form))

    return on_record(
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
    return on_record(
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
    return on_record(
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
    return on_record(
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


@bp.post("/pupils/<int:pupil_id>/parents/<int:parent_id>")
@login_required
def recorded(pupil_id: int, parent_id: int) -> ResponseReturnValue:
    found = load_register_pupil(current_user, pupil_id)
    parent = load_recorded_parent(found, parent_id)
    return on_record(
        found,
        f"parent-{parent.id}",
        lambda actor: edit_recorded_parent(
            actor,
            parent,
            forms.recorded_parent(request.form),
            forms.recorded_parent(request.form, "seen_"),
        ),
        message=_("Zapisano dane rodzica."),
    )
