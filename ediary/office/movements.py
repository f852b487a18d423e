"""Movements of a pupil (issue 13, item 3): a transfer to another class or group, leaving the
school, a return. The diary entries stay with the pupil (they hang on the pupil, not the class).

The register keeps every pupil ever admitted: leaving sets the date and reason and ends the
guardians' access at once (their links are removed through `unlink_guardian`, which declares
it, so their sockets lose the child after the commit; the history keeps who was linked, and a
return offers to link them again). Nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Conflict, Refusal
from ediary.office.operations import groups_of
from ediary.people.models import User
from ediary.schools.models import ClassGroup, GroupMembership, Guardianship, Pupil, SchoolClass
from ediary.schools.operations import (
    add_to_group,
    link_guardian,
    move_pupil,
    remove_from_group,
    unlink_guardian,
)


def _fresh(pupil: Pupil, base_version: int | None) -> None:
    if base_version is not None and pupil.version != base_version:
        raise Conflict(
            "stale_version",
            _l("Dane ucznia zmieniły się od wczytania strony. Sprawdź je i zapisz ponownie."),
            current_version=pupil.version,
        )


def _own_class(pupil: Pupil, school_class: SchoolClass) -> None:
    if school_class.school_id != pupil.school_id:
        raise Refusal("class_unknown", _l("Wybierz klasę tej szkoły."))


@operation
def transfer_pupil(
    actor: Actor,
    pupil: Pupil,
    school_class: SchoolClass,
    groups: Iterable[ClassGroup] = (),
    base_version: int | None = None,
) -> Pupil:
    """To `school_class` (maybe the same one) and exactly the chosen groups of it."""
    if not pupil.active:
        raise Refusal("pupil_left", _l("Uczeń odszedł ze szkoły: najpierw zapisz jego powrót."))
    _own_class(pupil, school_class)
    chosen = {g.id: g for g in groups_of(school_class, groups)}
    if pupil.class_id != school_class.id:
        _fresh(pupil, base_version)
        move_pupil(actor, pupil, school_class)
    current = db.session.scalars(
        select(ClassGroup)
        .join(GroupMembership, GroupMembership.group_id == ClassGroup.id)
        .where(GroupMembership.pupil_id == pupil.id)
    ).all()
    for group in current:
        if group.id not in chosen:
            remove_from_group(actor, group, pupil)
    for group in chosen.values():
        add_to_group(actor, group, pupil)
    return pupil


@operation
def record_leaving(
    actor: Actor, pupil: Pupil, left_on: dt.date, reason: str, base_version: int | None = None
) -> Pupil:
    """The pupil leaves the school: the guardians' access to this child ends at once."""
    reason = " ".join(reason.split())
    if not pupil.active:
        if pupil.left_on == left_on:
            return pupil  # the same form again
        raise Refusal("pupil_left", _l("Odejście tego ucznia jest już zapisane."))
    _fresh(pupil, base_version)
    if not reason:
        raise Refusal("leave_reason", _l("Podaj przyczynę odejścia (np. zmiana szkoły)."))
    if len(reason) > 200:
        raise Refusal("leave_reason_long", _l("Przyczyna może mieć najwyżej 200 znaków."))
    if pupil.admitted_on is not None and left_on < pupil.admitted_on:
        raise Refusal("left_before_admitted", _l("Data odejścia jest wcześniejsza niż przyjęcia."))
    pupil.active, pupil.left_on, pupil.leave_reason = False, left_on, reason
    guardians = db.session.scalars(
        select(User)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.pupil_id == pupil.id)
    ).all()
    for user in guardians:
        unlink_guardian(actor, user, pupil)
    return pupil


def former_guardians(pupil: Pupil) -> list[User]:
    """Accounts once linked to the pupil and not now (unlinked, or at leaving): from history."""
    rows = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.entity == "guardianships",
            HistoryEntry.pupil_id == pupil.id,
            HistoryEntry.action == "delete",
        )
    )
    ids = {int(r.old["user_id"]) for r in rows if r.old and r.old.get("user_id")}
    linked = set(
        db.session.scalars(select(Guardianship.user_id).where(Guardianship.pupil_id == pupil.id))
    )
    wanted = ids - linked
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(User).where(User.id.in_(wanted)).order_by(User.last_name, User.first_name)
        )
    )


@operation
def record_return(
    actor: Actor,
    pupil: Pupil,
    returned_on: dt.date,
    school_class: SchoolClass,
    relink: Iterable[User] = (),
) -> Pupil:
    """A pupil who left comes back (admitted again on `returned_on`); the guardians chosen from
    those linked before get their access back."""
    if pupil.active:
        return pupil  # the same form again, or nothing to do
    _own_class(pupil, school_class)
    if pupil.left_on is not None and returned_on < pupil.left_on:
        raise Refusal("return_before_leaving", _l("Data powrotu jest wcześniejsza niż odejścia."))
    allowed = {u.id for u in former_guardians(pupil)}
    chosen = list(relink)
    if any(u.id not in allowed for u in chosen):
        raise Refusal("guardian_unknown", _l("Można przywrócić tylko dawnych opiekunów ucznia."))
    pupil.active, pupil.left_on, pupil.leave_reason = True, None, None
    pupil.admitted_on = returned_on
    if pupil.class_id != school_class.id:
        move_pupil(actor, pupil, school_class)
    for user in chosen:
        link_guardian(actor, user, pupil)
    return pupil
