"""The office prints activation letters for a class's guardians (issue 13 item 6): all of them or
the chosen ones, as a PDF or a print view. Reached from the class page."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ediary.audit.recording import Actor
from ediary.db import db
from ediary.documents.pdf import pdf_response
from ediary.errors import Refusal
from ediary.people.activation.letters import (
    Letter,
    LetterRequest,
    issue_letters,
    letters_html,
    letters_pdf,
)
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, SchoolClass
from ediary.staff.access import load_class_for_letters
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("letters", __name__)

NONE_CHOSEN = _l("Zaznacz co najmniej jednego rodzica.")


def guardians_of(school_class: SchoolClass) -> list[tuple[User, Pupil]]:
    """Every (guardian, child) of the class's pupils, by the child's and the guardian's names."""
    rows = db.session.execute(
        select(User, Pupil)
        .join(Guardianship, Guardianship.user_id == User.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.class_id == school_class.id, Pupil.active.is_(True))
        .order_by(Pupil.last_name, Pupil.first_name, User.last_name, User.id)
    )
    return [(guardian, pupil) for guardian, pupil in rows]


def _page(
    school_class: SchoolClass, chosen: set[int] | None, refusal: Refusal | None = None
) -> str:
    return render_template(
        "staff/class_letters.html",
        school_class=school_class,
        guardians=guardians_of(school_class),
        chosen=chosen,
        refusal=refusal,
    )


@bp.get("/classes/<int:class_id>/letters")
@login_required
def class_letters(class_id: int) -> ResponseReturnValue:
    found = load_class_for_letters(current_user, class_id)
    return _page(found, None)


@bp.post("/classes/<int:class_id>/letters")
@login_required
def print_class_letters(class_id: int) -> ResponseReturnValue:
    found = load_class_for_letters(current_user, class_id)
    wanted = {int(v) for v in request.form.getlist("guardian") if v.isdigit() and len(v) < 19}
    as_pdf = request.form.get("format") != "html"
    # Only guardians of this class: any other id is ignored, as if it was not sent.
    requests = [
        LetterRequest(guardian, found.school, child)
        for guardian, child in guardians_of(found)
        if guardian.id in wanted
    ]

    def issue(actor: Actor) -> list[Letter]:
        if not requests:
            raise Refusal("none_chosen", NONE_CHOSEN)
        return issue_letters(actor, requests)

    back = url_for("letters.class_letters", class_id=found.id)
    return perform(
        issue,
        to=back,
        message=_("Listy zostały już wydrukowane tym formularzem."),
        refused=lambda refusal: _page(found, wanted, refusal),
        then=lambda letters: _document(
            letters, as_pdf, f"listy-aktywacyjne-{found.name}.pdf", back
        ),
    )


def _document(letters: list[Letter], as_pdf: bool, filename: str, back: str) -> ResponseReturnValue:
    if as_pdf:
        return pdf_response(letters_pdf(letters), filename)
    return letters_html(letters, print_bar=back)
