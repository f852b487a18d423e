"""The fields an import fills, their Polish names, and the headers SIO and schools' sheets use."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

GUARDIANS = 2  # guardians per row: SIO's export and schools' sheets have a mother's and a father's

PUPIL_FIELDS: dict[str, LazyString] = {
    "first_name": _l("Imię ucznia"),
    "last_name": _l("Nazwisko ucznia"),
    "pesel": _l("PESEL"),
    "birth_date": _l("Data urodzenia"),
    "birth_place": _l("Miejsce urodzenia"),
    "address": _l("Adres ucznia"),
    "class_name": _l("Klasa"),
}
GUARDIAN_FIELDS: dict[str, LazyString] = {
    "first_name": _l("imię"),
    "last_name": _l("nazwisko"),
    "email": _l("e-mail"),
    "phone": _l("telefon"),
}

# Header words (lower case, without diacritics) that name a field: the mapping page's guess.
_GUESSES: dict[str, tuple[str, ...]] = {
    "first_name": ("imie", "imiona", "imie ucznia", "imie pierwsze", "first name"),
    "last_name": ("nazwisko", "nazwisko ucznia", "last name"),
    "pesel": ("pesel", "pesel ucznia"),
    "birth_date": ("data urodzenia", "data ur.", "urodzony"),
    "birth_place": ("miejsce urodzenia", "miejsce ur."),
    "address": ("adres", "adres zamieszkania", "adres ucznia"),
    "class_name": ("klasa", "oddzial", "klasa/oddzial"),
}
_GUARDIAN_GUESSES: dict[str, tuple[str, ...]] = {
    "first_name": ("imie opiekuna {n}", "opiekun {n} imie", "imie rodzica {n}"),
    "last_name": ("nazwisko opiekuna {n}", "opiekun {n} nazwisko", "nazwisko rodzica {n}"),
    "email": (
        "e-mail opiekuna {n}",
        "email opiekuna {n}",
        "opiekun {n} e-mail",
        "opiekun {n} email",
    ),
    "phone": ("telefon opiekuna {n}", "opiekun {n} telefon", "tel. opiekuna {n}"),
}


def all_fields() -> dict[str, str]:
    """Every field's key and its Polish name, in the mapping page's order."""
    names = {key: str(label) for key, label in PUPIL_FIELDS.items()}
    for n in range(1, GUARDIANS + 1):
        for key, label in GUARDIAN_FIELDS.items():
            names[f"g{n}_{key}"] = f"{_l('Opiekun')} {n}: {label}"
    return names


def folded(text: str) -> str:
    """Lower case without Polish diacritics (ł has no decomposition, so it is mapped)."""
    text = text.replace("ł", "l").replace("Ł", "L")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def guess(headers: list[str]) -> dict[str, str]:
    """Field → header for the headers that look like a field's name."""
    by_name = {folded(h): h for h in headers if h}
    found: dict[str, str] = {}
    for key, words in _GUESSES.items():
        for word in words:
            if word in by_name:
                found[key] = by_name[word]
                break
    for n in range(1, GUARDIANS + 1):
        for key, patterns in _GUARDIAN_GUESSES.items():
            for pattern in patterns:
                if pattern.format(n=n) in by_name:
                    found[f"g{n}_{key}"] = by_name[pattern.format(n=n)]
                    break
    return found


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y.%m.%d")


def parse_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            # A calendar date, not a moment: no time zone to be naive about.
            return dt.datetime.strptime(text.strip(), fmt).date()  # noqa: DTZ007
        except ValueError:
            continue
    return None


def class_key(name: str) -> str:
    """ "4 B", "4b" and "4B" name the same class."""
    return re.sub(r"\s+", "", name).lower()


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[0-9 ()-]{9,20}")
