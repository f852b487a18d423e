"""Lists the office prints and exports: class lists, guardians' contacts, birthdays and ages.

Each list is one `Table` (ediary/documents/tables.py), written as CSV or XLSX with formula
injection neutralised, or shown as a print view and rendered as a PDF from the same template
(ediary/documents/pdf.py). Only the school's own office (secretary, administrator) reaches
them: anyone else, a district administrator included, gets 404 (no personal data leaves the
school). The class is chosen by its id in the query, never by a name; nothing personal is in
a URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.db import db
from ediary.documents.pdf import pdf_response, render_pdf
from ediary.documents.tables import Table, table_response
from ediary.ids import parse_id
from ediary.office.imports.plan import current_year
from ediary.people.models import User
from ediary.schools.access import load_school
from ediary.schools.models import GuardianRelation, Guardianship, Pupil, School, SchoolClass
from ediary.schools.queries import school_today
from ediary.web.auth import login_required


def _(message: str, /, **values: Any) -> str:
    return str(gettext(message, **values))


bp = Blueprint("exports", __name__, url_prefix="/office")

FORMATS = ("html", "csv", "xlsx", "pdf")


def classes_of(school: School, today: dt.date) -> list[SchoolClass]:
    year = current_year(school, today)
    if year is None:
        return []
    query = (
        select(SchoolClass)
        .where(SchoolClass.year_id == year.id)
        .order_by(SchoolClass.grade_level, SchoolClass.name)
    )
    return list(db.session.scalars(query))


def _pupils(classes: list[SchoolClass]) -> list[Pupil]:
    if not classes:
        return []
    names = {c.id: (c.grade_level, c.name) for c in classes}
    pupils = db.session.scalars(
        select(Pupil).where(Pupil.class_id.in_(names), Pupil.active.is_(True))
    ).all()
    return sorted(pupils, key=lambda p: (names[p.class_id], p.last_name, p.first_name))


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def class_list(classes: list[SchoolClass], _today: dt.date) -> Table:
    table = Table(
        _("Lista uczniów"),
        [
            _("Lp."),
            _("Klasa"),
            _("Nazwisko"),
            _("Imię"),
            _("PESEL"),
            _("Data urodzenia"),
            _("Adres"),
        ],
    )
    names = {c.id: c.name for c in classes}
    for n, pupil in enumerate(_pupils(classes), start=1):
        table.rows.append(
            [
                n,
                names[pupil.class_id],
                pupil.last_name,
                pupil.first_name,
                pupil.pesel,
                pupil.birth_date,
                pupil.address,
            ]
        )
    return table


RELATIONS = {
    GuardianRelation.MOTHER: _l("matka"),
    GuardianRelation.FATHER: _l("ojciec"),
    GuardianRelation.LEGAL_GUARDIAN: _l("opiekun prawny"),
    GuardianRelation.OTHER: _l("inna"),
}


def guardian_contacts(classes: list[SchoolClass], _today: dt.date) -> Table:
    table = Table(
        _("Kontakty opiekunów"),
        [_("Klasa"), _("Uczeń"), _("Opiekun"), _("Relacja"), _("E-mail"), _("Telefon")],
    )
    pupils = _pupils(classes)
    names = {c.id: c.name for c in classes}
    links = db.session.execute(
        select(Guardianship, User)
        .join(User, User.id == Guardianship.user_id)
        .where(Guardianship.pupil_id.in_([p.id for p in pupils]))
        .order_by(User.last_name, User.first_name)
    ).all()
    by_pupil: dict[int, list[tuple[Guardianship, User]]] = {}
    for link, user in links:
        by_pupil.setdefault(link.pupil_id, []).append((link, user))
    for pupil in pupils:
        for link, user in by_pupil.get(pupil.id, []):
            relation = str(RELATIONS[link.relation]) if link.relation is not None else None
            table.rows.append(
                [
                    names[pupil.class_id],
                    f"{pupil.last_name} {pupil.first_name}",
                    f"{user.last_name} {user.first_name}",
                    relation,
                    user.email,
                    user.phone,
                ]
            )
    return table


def birthdays(classes: list[SchoolClass], today: dt.date) -> Table:
    table = Table(
        _("Urodziny i wiek"),
        [_("Urodziny"), _("Klasa"), _("Nazwisko"), _("Imię"), _("Data urodzenia"), _("Wiek")],
    )
    names = {c.id: c.name for c in classes}
    dated = [p for p in _pupils(classes) if p.birth_date is not None]
    dated.sort(key=lambda p: (p.birth_date.month, p.birth_date.day, p.last_name))  # type: ignore[union-attr]
    for pupil in dated:
        born = pupil.birth_date
        assert born is not None
        table.rows.append(
            [
                f"{born.day:02d}.{born.month:02d}",
                names[pupil.class_id],
                pupil.last_name,
                pupil.first_name,
                born,
                age_on(born, today),
            ]
        )
    return table


LISTS: dict[str, tuple[Callable[[list[SchoolClass], dt.date], Table], str]] = {
    "pupils": (class_list, "lista-uczniow"),
    "guardians": (guardian_contacts, "kontakty-opiekunow"),
    "birthdays": (birthdays, "urodziny"),
}


@bp.get("/schools/<int:school_id>/lists")
@login_required
def lists(school_id: int) -> ResponseReturnValue:
    school = load_school(current_user, school_id)
    return render_template(
        "office/exports/lists.html",
        school=school,
        classes=classes_of(school, school_today(school)),
    )


@bp.get("/schools/<int:school_id>/lists/<kind>")
@login_required
def export(school_id: int, kind: str) -> ResponseReturnValue:
    school = load_school(current_user, school_id)
    fmt = request.args.get("format", "html")
    if kind not in LISTS or fmt not in FORMATS:
        raise NotFound()
    today = school_today(school)
    classes = classes_of(school, today)
    raw_class = request.args.get("class_id")
    if raw_class is not None:
        class_id = parse_id(raw_class)
        classes = [c for c in classes if c.id == class_id]
        if not classes:
            raise NotFound()  # another school's class looks like no class
    build, filename = LISTS[kind]
    table = build(classes, today)
    if raw_class is not None:
        table.title = f"{table.title} {classes[0].name}"
        filename = f"{filename}-{classes[0].name}"
    if fmt in ("csv", "xlsx"):
        return table_response(table, fmt, filename)  # type: ignore[arg-type]
    context = {"school": school, "table": table, "kind": kind, "class_id": raw_class}
    if fmt == "pdf":
        return pdf_response(render_pdf("office/exports/list.html", **context), f"{filename}.pdf")
    return render_template("office/exports/list.html", **context)
