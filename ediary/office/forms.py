"""The office's forms, read from the request into the operations' arguments.

Plain HTML forms (typed fast, Tab and Enter), read here rather than through WTForms fields: the
operations check every value and refuse in Polish, and a refused form is shown again with what
was typed (`values`), so one place says what is wrong. Reading a field never raises anything
but a `Refusal`, which `perform` shows on the form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from ediary.errors import Refusal
from ediary.office.operations import GuardianDetails, GuardianEdit, Particulars
from ediary.schools.models import GuardianRelation

PARTICULARS = (
    "first_name",
    "last_name",
    "pesel",
    "birth_date",
    "birth_place",
    "identity_document",
    "address",
)


def text(form: Mapping[str, str], name: str, limit: int = 400) -> str:
    """A field as typed; NUL and other control characters are refused, not stored."""
    value = form.get(name, "") or ""
    if any(ord(c) < 32 and c not in "\t\r\n" for c in value):
        raise Refusal("control_characters", _l("Pole zawiera niedozwolone znaki."))
    if len(value) > limit:
        raise Refusal("too_long", _l("Wpisany tekst jest za długi."))
    return value


def date(form: Mapping[str, str], name: str, *, required: bool, label: str) -> dt.date | None:
    raw = text(form, name, 20).strip()
    if not raw:
        if required:
            raise Refusal("date_missing", _l("Podaj datę: %(what)s.", what=label))
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Refusal(
            "date_invalid", _l("Nieprawidłowa data (%(what)s): użyj RRRR-MM-DD.", what=label)
        ) from None


def particulars(form: Mapping[str, str]) -> Particulars:
    return Particulars(
        first_name=text(form, "first_name"),
        last_name=text(form, "last_name"),
        pesel=text(form, "pesel", 40),
        birth_date=date(form, "birth_date", required=False, label=str(_l("data urodzenia"))),
        birth_place=text(form, "birth_place"),
        identity_document=text(form, "identity_document"),
        address=text(form, "address"),
    )


def relation(form: Mapping[str, str], name: str = "relation") -> GuardianRelation | None:
    raw = text(form, name, 40)
    if not raw:
        return None
    try:
        return GuardianRelation(raw)
    except ValueError:
        raise Refusal("relation_invalid", _l("Wybierz pokrewieństwo z listy.")) from None


def guardian(form: Mapping[str, str]) -> GuardianDetails:
    return GuardianDetails(
        first_name=text(form, "g_first_name"),
        last_name=text(form, "g_last_name"),
        address=text(form, "g_address"),
        email=text(form, "g_email"),
        phone=text(form, "g_phone"),
        relation=relation(form, "g_relation"),
        may_see=form.get("g_may_see") == "y",
    )


def guardian_edit(form: Mapping[str, str], prefix: str = "") -> GuardianEdit:
    return GuardianEdit(
        address=text(form, f"{prefix}address"),
        email=text(form, f"{prefix}email"),
        phone=text(form, f"{prefix}phone"),
        relation=relation(form, f"{prefix}relation"),
    )


def values(form: MultiDict[str, str]) -> dict[str, str]:
    """What was typed, to fill the form shown again (first value of each field)."""
    return {key: form.get(key, "") for key in form}


def recorded_parent(form: Mapping[str, str], prefix: str = "") -> GuardianDetails:
    return GuardianDetails(
        first_name=text(form, f"{prefix}first_name"),
        last_name=text(form, f"{prefix}last_name"),
        address=text(form, f"{prefix}address"),
        relation=relation(form, f"{prefix}relation"),
        may_see=False,
    )
