"""The pupil register's writes: a pupil registered and edited, guardians added, linked, their
contacts, and access sent again (issue 13, items 2 and 4). Movements are in `movements.py`.

Each takes the actor first, refuses in Polish, flushes and never commits (house rule 3). Who may
see what changes only through the school operations (`enrol_pupil`, `link_guardian`,
`unlink_guardian`), which declare it, so live sockets follow.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.recording import Actor, operation
from ediary.contacts.models import ContactKind
from ediary.contacts.operations import change_contact, on_file_of
from ediary.db import db
from ediary.errors import Conflict, Refusal
from ediary.folding import fold
from ediary.office.models import RecordedParent
from ediary.people.activation.operations import issue_activation_code
from ediary.people.models import User
from ediary.people.operations import create_user
from ediary.people.queries import today
from ediary.schools.models import ClassGroup, GuardianRelation, Guardianship, Pupil, SchoolClass
from ediary.schools.operations import add_to_group, enrol_pupil, link_guardian
from ediary.schools.pesel import parse_pesel

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[0-9]{9,15}")


@dataclass
class Particulars:
    """What the register holds of a pupil, as typed (``None`` or "" for an empty field)."""

    first_name: str
    last_name: str
    pesel: str | None = None
    birth_date: dt.date | None = None
    birth_place: str | None = None
    identity_document: str | None = None
    address: str | None = None


@dataclass
class GuardianDetails:
    first_name: str
    last_name: str
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    relation: GuardianRelation | None = None
    # False: a parent deprived of parental authority, say: recorded, never linked.
    may_see: bool = True


def _text(value: str | None, limit: int, field: str) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise Refusal(
            "too_long",
            _l("Pole „%(field)s” może mieć najwyżej %(n)s znaków.", field=field, n=limit),
        )
    return value or None


def checked(school_id: int, p: Particulars, pupil_id: int | None = None) -> Particulars:
    """The particulars cleaned and checked: names, the PESEL's checksum and birth date (the
    birth date is taken from it, or must agree with it), a PESEL unique in the school, and for a
    pupil without PESEL the birth date, place and an identity document the law asks for."""
    first = _text(p.first_name, 80, str(_l("imię")))
    last = _text(p.last_name, 80, str(_l("nazwisko")))
    if not first or not last:
        raise Refusal("pupil_name", _l("Podaj imię i nazwisko ucznia."))
    place = _text(p.birth_place, 120, str(_l("miejsce urodzenia")))
    document = _text(p.identity_document, 80, str(_l("dokument tożsamości")))
    address = _text(p.address, 250, str(_l("adres")))
    birth_date = p.birth_date
    number = (p.pesel or "").strip().replace(" ", "") or None
    if number is not None:
        pesel = parse_pesel(number)
        if birth_date is not None and birth_date != pesel.birth_date:
            raise Refusal(
                "pesel_birth_date",
                _l(
                    "Data urodzenia nie zgadza się z PESEL-em (z PESEL-u wynika %(date)s).",
                    date=pesel.birth_date.isoformat(),
                ),
            )
        birth_date = pesel.birth_date
        taken = select(Pupil.id).where(Pupil.school_id == school_id, Pupil.pesel == number)
        if pupil_id is not None:
            taken = taken.where(Pupil.id != pupil_id)
        if db.session.scalar(taken) is not None:
            raise Refusal("pesel_taken", _l("Uczeń z tym PESEL-em jest już w księdze uczniów."))
    elif birth_date is None or not place or not document:
        raise Refusal(
            "no_pesel",
            _l(
                "Bez PESEL-u podaj datę i miejsce urodzenia oraz serię i numer dokumentu "
                "tożsamości."
            ),
        )
    if birth_date is not None and not dt.date(1990, 1, 1) <= birth_date <= today():
        raise Refusal("birth_date", _l("Data urodzenia jest spoza możliwego zakresu."))
    return Particulars(first, last, number, birth_date, place, document, address)


def _apply(pupil: Pupil, p: Particulars) -> None:
    pupil.first_name, pupil.last_name, pupil.pesel = p.first_name, p.last_name, p.pesel
    pupil.birth_date, pupil.birth_place = p.birth_date, p.birth_place
    pupil.identity_document, pupil.address = p.identity_document, p.address


def groups_of(school_class: SchoolClass, groups: Iterable[ClassGroup]) -> list[ClassGroup]:
    chosen = list(groups)
    if any(g.class_id != school_class.id for g in chosen):
        raise Refusal("group_other_class", _l("Ta grupa nie należy do tej klasy."))
    return chosen


@operation
def register_pupil(
    actor: Actor,
    school_class: SchoolClass,
    particulars: Particulars,
    admitted_on: dt.date,
    groups: Iterable[ClassGroup] = (),
) -> Pupil:
    """A new pupil in the register (księga uczniów), in a class and its chosen groups."""
    p = checked(school_class.school_id, particulars)
    chosen = groups_of(school_class, groups)
    pupil = enrol_pupil(actor, school_class, p.first_name, p.last_name)
    _apply(pupil, p)
    pupil.admitted_on = admitted_on
    for group in chosen:
        add_to_group(actor, group, pupil)
    return pupil


@operation
def edit_pupil(actor: Actor, pupil: Pupil, particulars: Particulars, base_version: int) -> Pupil:
    """Corrects the particulars; a page that showed an older version is told, not obeyed."""
    cleaned = checked(pupil.school_id, particulars, pupil.id)
    if pupil.version != base_version:
        raise Conflict(
            "stale_version",
            _l("Dane ucznia zmieniły się od wczytania strony. Sprawdź je i zapisz ponownie."),
            current_version=pupil.version,
        )
    _apply(pupil, cleaned)
    return pupil


@operation
def set_guardian_contacts(actor: Actor, user: User, email: str | None, phone: str | None) -> User:
    """The one place the office writes a guardian's e-mail and phone: through the contacts'
    verification (ediary/contacts), so that a new address gets its proof (a link, a code)
    before any notification goes there, and the proved one keeps receiving meanwhile."""
    for kind, typed in ((ContactKind.EMAIL, email), (ContactKind.PHONE, phone)):
        wanted = (typed or "").strip()
        if wanted != (on_file_of(user, kind) or ""):
            change_contact(actor, user, kind, wanted)
    return user


def _new_login(first: str, last: str) -> str:
    base = re.sub(r"[^a-z0-9]", "", fold(first)) + "." + re.sub(r"[^a-z0-9]", "", fold(last))
    base = base.strip(".")[:70] or "rodzic"
    taken = set(db.session.scalars(select(User.login).where(User.login.startswith(base))))
    login, n = base, 1
    while login in taken:
        n += 1
        login = f"{base}{n}"
    return login


@operation
def add_guardian(actor: Actor, pupil: Pupil, details: GuardianDetails) -> User | RecordedParent:
    """A guardian with an account linked to the child, or a parent recorded without access."""
    first = _text(details.first_name, 80, str(_l("imię")))
    last = _text(details.last_name, 80, str(_l("nazwisko")))
    if not first or not last:
        raise Refusal("guardian_name", _l("Podaj imię i nazwisko rodzica lub opiekuna."))
    address = _text(details.address, 250, str(_l("adres")))
    if not details.may_see:
        parent = RecordedParent(
            school_id=pupil.school_id,
            pupil_id=pupil.id,
            first_name=first,
            last_name=last,
            address=address,
            relation=details.relation,
        )
        db.session.add(parent)
        return parent
    user = create_user(actor, login=_new_login(first, last), first_name=first, last_name=last)
    user.address = address
    set_guardian_contacts(actor, user, details.email, details.phone)
    link = link_guardian(actor, user, pupil)
    link.relation = details.relation
    return user


@operation
def link_existing_guardian(
    actor: Actor, pupil: Pupil, user: User, relation: GuardianRelation | None
) -> Guardianship:
    """A sibling's guardian, with the same login, now also sees this child."""
    if not pupil.active:
        raise Refusal("pupil_left", _l("Uczeń odszedł ze szkoły: najpierw zapisz jego powrót."))
    link = link_guardian(actor, user, pupil)
    if relation is not None:
        link.relation = relation
    return link


@dataclass
class GuardianEdit:
    address: str | None
    email: str | None
    phone: str | None
    relation: GuardianRelation | None


@operation
def edit_guardian(
    actor: Actor, link: Guardianship, user: User, wanted: GuardianEdit, seen: GuardianEdit
) -> User:
    """Address, relation and contacts; the page sends what it showed, and a guardian changed by
    someone else meanwhile (the parent in the portal, say) is a conflict, not overwritten."""
    now = GuardianEdit(user.address, user.email, user.phone, link.relation)
    if (now.address or None, now.email or None, now.phone or None, now.relation) != (
        seen.address or None,
        seen.email or None,
        seen.phone or None,
        seen.relation,
    ):
        raise Conflict(
            "stale_guardian",
            _l("Dane opiekuna zmieniły się od wczytania strony. Sprawdź je i zapisz ponownie."),
        )
    user.address = _text(wanted.address, 250, str(_l("adres")))
    link.relation = wanted.relation
    if (wanted.email or None, wanted.phone or None) != (now.email, now.phone):
        set_guardian_contacts(actor, user, wanted.email, wanted.phone)
    return user


@operation
def resend_access(actor: Actor, user: User) -> str:
    """A new one-time activation code (the earlier ones stop working), shown once."""
    if not user.active:
        raise Refusal("account_disabled", _l("To konto jest wyłączone."))
    return issue_activation_code(actor, user)


@operation
def edit_recorded_parent(
    actor: Actor, parent: RecordedParent, wanted: GuardianDetails, seen: GuardianDetails
) -> RecordedParent:
    """Corrects a parent recorded without access; the page sends what it showed, and a row
    changed meanwhile is a conflict, not overwritten."""
    now = (parent.first_name, parent.last_name, parent.address or "", parent.relation)
    shown = (seen.first_name, seen.last_name, seen.address or "", seen.relation)
    if now != shown:
        raise Conflict(
            "stale_parent",
            _l("Dane rodzica zmieniły się od wczytania strony. Sprawdź je i zapisz ponownie."),
        )
    first = _text(wanted.first_name, 80, str(_l("imię")))
    last = _text(wanted.last_name, 80, str(_l("nazwisko")))
    if not first or not last:
        raise Refusal("guardian_name", _l("Podaj imię i nazwisko rodzica lub opiekuna."))
    parent.first_name, parent.last_name = first, last
    parent.address = _text(wanted.address, 250, str(_l("adres")))
    parent.relation = wanted.relation
    return parent
