"""The staff console: a school's staff and their roles, new accounts with their activation
letters, leavers, password resets (issue 14 item 1). The school administrator manages every
staff role of their school; the district administrator the secretaries and administrators of
its gmina's schools (issue 16 item 4). Anything else is 404 (access.py)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ediary.audit.recording import Actor
from ediary.documents.pdf import pdf_response
from ediary.errors import Refusal
from ediary.people.activation.letters import Letter, letters_html, letters_pdf
from ediary.people.models import Role, User
from ediary.people.twofactor.operations import enrolled, enrolled_among, reset_second_factor
from ediary.schools.models import School
from ediary.staff.access import (
    load_staff_member,
    load_staff_school,
    manageable_roles,
    staff_of,
)
from ediary.staff.forms import ConfirmForm, NewStaffForm
from ediary.staff.operations import (
    create_staff_account,
    disable_staff,
    reset_staff_password,
    set_staff_roles,
    staff_letter,
)
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("staff", __name__)

ROLE_LABELS = {
    Role.TEACHER: _l("nauczyciel"),
    Role.SECRETARY: _l("sekretariat"),
    Role.SCHOOL_ADMIN: _l("administrator szkoły (dyrektor)"),
    Role.DISTRICT_ADMIN: _l("administrator gminy"),
}
NOT_CONFIRMED = _l("Zaznacz potwierdzenie.")


def _chosen_roles() -> set[Role]:
    values = set(request.form.getlist("role"))
    return {role for role in Role if role.value in values}


def _letter(letter: Letter, back: str) -> ResponseReturnValue:
    if request.form.get("format") == "pdf":
        return pdf_response(letters_pdf([letter]), f"list-aktywacyjny-{letter.user.login}.pdf")
    return letters_html([letter], print_bar=back)


@bp.get("/schools/<int:school_id>/staff")
@login_required
def staff(school_id: int) -> ResponseReturnValue:
    school = load_staff_school(current_user, school_id)
    members = staff_of(school)
    return render_template(
        "staff/list.html",
        school=school,
        staff=members,
        with_second_factor=enrolled_among([member.id for member, _roles in members]),
        labels=ROLE_LABELS,
        manageable=manageable_roles(current_user, school),
    )


def _new_page(school: School, form: NewStaffForm, refusal: Refusal | None = None) -> str:
    return render_template(
        "staff/new.html",
        school=school,
        form=form,
        roles=manageable_roles(current_user, school),
        chosen=_chosen_roles() if request.method == "POST" else set(),
        labels=ROLE_LABELS,
        refusal=refusal,
    )


@bp.route("/schools/<int:school_id>/staff/new", methods=["GET", "POST"])
@login_required
def new(school_id: int) -> ResponseReturnValue:
    school = load_staff_school(current_user, school_id)
    form = NewStaffForm()
    if not form.validate_on_submit():
        return _new_page(school, form), 400 if request.method == "POST" else 200

    def create(actor: Actor) -> Letter:
        member = create_staff_account(
            actor,
            school,
            login=form.login.data or "",
            first_name=form.first_name.data or "",
            last_name=form.last_name.data or "",
            email=form.email.data,
            roles=_chosen_roles(),
        )
        return staff_letter(actor, school, member)

    return perform(
        create,
        to=url_for("staff.staff", school_id=school.id),
        message=_("Konto zostało już utworzone tym formularzem."),
        refused=lambda refusal: _new_page(school, form, refusal),
        then=lambda letter: _letter(
            letter, url_for("staff.member", school_id=school.id, member_id=letter.user.id)
        ),
    )


def _member_page(school: School, member: User, refusal: Refusal | None = None) -> str:
    return render_template(
        "staff/member.html",
        school=school,
        member=member,
        held={m.role for m in member.memberships if m.school_id == school.id},
        roles=manageable_roles(current_user, school),
        labels=ROLE_LABELS,
        form=ConfirmForm(),
        twofactor=enrolled(member),
        refusal=refusal,
    )


@bp.get("/schools/<int:school_id>/staff/<int:member_id>")
@login_required
def member(school_id: int, member_id: int) -> ResponseReturnValue:
    school = load_staff_school(current_user, school_id)
    return _member_page(school, load_staff_member(current_user, school, member_id))


@bp.post("/schools/<int:school_id>/staff/<int:member_id>/roles")
@login_required
def roles(school_id: int, member_id: int) -> ResponseReturnValue:
    school = load_staff_school(current_user, school_id)
    found = load_staff_member(current_user, school, member_id)
    wanted = _chosen_roles()
    return perform(
        lambda actor: set_staff_roles(actor, school, found, wanted),
        to=url_for("staff.member", school_id=school.id, member_id=found.id),
        message=lambda changed: _("Role zostały zapisane.") if changed else _("Bez zmian."),
        refused=lambda refusal: _member_page(school, found, refusal),
    )


@bp.post("/schools/<int:school_id>/staff/<int:member_id>/letter")
@login_required
def letter(school_id: int, member_id: int) -> ResponseReturnValue:
    """A new activation letter; for an activated account it is a password reset (confirmed)."""
    school = load_staff_school(current_user, school_id)
    found = load_staff_member(current_user, school, member_id)
    form = ConfirmForm()
    back = url_for("staff.member", school_id=school.id, member_id=found.id)

    def issue(actor: Actor) -> Letter:
        if found.password_hash is None:
            return staff_letter(actor, school, found)
        if not form.confirm.data:
            raise Refusal("not_confirmed", NOT_CONFIRMED)
        return reset_staff_password(actor, school, found)

    return perform(
        issue,
        to=back,
        refused=lambda refusal: _member_page(school, found, refusal),
        then=lambda issued: _letter(issued, back),
    )


@bp.post("/schools/<int:school_id>/staff/<int:member_id>/disable")
@login_required
def disable(school_id: int, member_id: int) -> ResponseReturnValue:
    school = load_staff_school(current_user, school_id)
    found = load_staff_member(current_user, school, member_id)
    form = ConfirmForm()

    def leave(actor: Actor) -> User:
        if not form.confirm.data:
            raise Refusal("not_confirmed", NOT_CONFIRMED)
        return disable_staff(actor, school, found)

    return perform(
        leave,
        to=url_for("staff.member", school_id=school.id, member_id=found.id),
        message=_("Konto zostało wyłączone: wszystkie sesje tej osoby zostały zakończone."),
        refused=lambda refusal: _member_page(school, found, refusal),
    )


@bp.post("/schools/<int:school_id>/staff/<int:member_id>/twofactor/reset")
@login_required
def reset_twofactor(school_id: int, member_id: int) -> ResponseReturnValue:
    """A lost phone: the person enrols again at their next login (with history)."""
    school = load_staff_school(current_user, school_id)
    found = load_staff_member(current_user, school, member_id)
    form = ConfirmForm()

    def reset(actor: Actor) -> User:
        if not form.confirm.data:
            raise Refusal("not_confirmed", NOT_CONFIRMED)
        return reset_second_factor(actor, found)

    return perform(
        reset,
        to=url_for("staff.member", school_id=school.id, member_id=found.id),
        message=_("Logowanie dwuskładnikowe zresetowane: osoba włączy je ponownie przy logowaniu."),
        refused=lambda refusal: _member_page(school, found, refusal),
    )
