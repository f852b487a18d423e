"""The dry run: what an import would do to each row, computed without writing anything.

Pupils are matched by PESEL, else by names and birth date; a guardian by e-mail or names among
the pupil's guardians, else by e-mail among the school's guardians (siblings share one account),
else a new account. An empty cell never erases what the register holds. The commit
(`operations.import_rows`) computes the same plan again inside its transaction and applies it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.db import db
from ediary.errors import Refusal
from ediary.office.imports.fields import (
    EMAIL,
    GUARDIAN_FIELDS,
    GUARDIANS,
    PHONE,
    all_fields,
    class_key,
    folded,
    parse_date,
)
from ediary.office.imports.reading import Sheet
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, School, SchoolClass, SchoolYear
from ediary.schools.pesel import parse_pesel

NEW, CHANGED, UNCHANGED, REFUSED = "new", "changed", "unchanged", "refused"
PUPIL_COLUMNS = ("first_name", "last_name", "pesel", "birth_date", "birth_place", "address")


@dataclass
class GuardianPlan:
    user_id: int | None  # None: a new account
    key: str  # the e-mail, or the names: one new account per key within a file
    values: dict[str, str]
    link: bool = True  # a guardianship to create
    updates: dict[str, str] = field(default_factory=dict)


@dataclass
class RowPlan:
    number: int  # the line of the file (the header is line 1)
    status: str
    name: str = ""
    reasons: list[str] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, old, new)
    pupil_id: int | None = None
    pupil_values: dict[str, Any] = field(default_factory=dict)
    class_id: int | None = None
    guardians: list[GuardianPlan] = field(default_factory=list)


@dataclass
class Plan:
    rows: list[RowPlan]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def accepted(self) -> list[RowPlan]:
        return [r for r in self.rows if r.status in (NEW, CHANGED)]

    @property
    def version(self) -> str:
        """What the dry run showed, in short: the commit compares it with the plan it makes
        again, so that a register changed meanwhile is shown again before it is written."""
        shown = [(r.number, r.status, r.pupil_id, r.class_id, r.changes) for r in self.rows]
        return hashlib.sha256(repr(shown).encode()).hexdigest()[:32]


def current_year(school: School, today: dt.date) -> SchoolYear | None:
    """The open year the day falls in, else the newest open year."""
    years = db.session.scalars(
        select(SchoolYear)
        .where(SchoolYear.school_id == school.id, SchoolYear.closed_at.is_(None))
        .order_by(SchoolYear.starts_on.desc())
    ).all()
    for year in years:
        if year.starts_on <= today <= year.ends_on:
            return year
    # Between two years (July, August): the newest open one, which after the rollover is the
    # coming year and before it the year that has just ended.
    return years[0] if years else None


class _Known:
    """What the school holds, loaded once (a few queries, not one per row)."""

    def __init__(self, school: School, year: SchoolYear | None) -> None:
        self.pupils = list(db.session.scalars(select(Pupil).where(Pupil.school_id == school.id)))
        self.by_pesel = {p.pesel: p for p in self.pupils if p.pesel}
        self.by_names: dict[tuple[str, str, dt.date | None], Pupil] = {
            (folded(p.first_name), folded(p.last_name), p.birth_date): p
            for p in self.pupils
            if p.birth_date is not None
        }
        classes: Iterable[SchoolClass] = (
            db.session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id))
            if year is not None
            else []
        )
        self.classes = {class_key(c.name): c for c in classes}
        self.class_names = {c.id: c.name for c in self.classes.values()}
        self.names = all_fields()  # translated once: 1,900 rows × 23 lazy strings add up
        self.guardians: dict[int, list[User]] = {}
        self.by_email: dict[str, User] = {}
        rows = db.session.execute(
            select(Guardianship.pupil_id, User)
            .join(User, User.id == Guardianship.user_id)
            .where(Guardianship.school_id == school.id)
        ).all()
        for pupil_id, user in rows:
            self.guardians.setdefault(pupil_id, []).append(user)
            if user.email:
                self.by_email.setdefault(user.email.lower(), user)


def make_plan(school: School, sheet: Sheet, mapping: dict[str, str], today: dt.date) -> Plan:
    year = current_year(school, today)
    known = _Known(school, year)
    index = {h: i for i, h in enumerate(sheet.headers) if h}
    columns = {key: index[h] for key, h in mapping.items() if h in index}
    seen: dict[str, int] = {}
    new_guardians: dict[str, GuardianPlan] = {}
    rows = []
    for offset, cells in enumerate(sheet.rows):
        values = {key: cells[i] if i < len(cells) else "" for key, i in columns.items()}
        row = RowPlan(number=offset + 2, status=UNCHANGED)
        _plan_row(row, values, known, seen, new_guardians)
        rows.append(row)
    return Plan(rows)


def _refuse(row: RowPlan, reason: Any) -> None:
    row.status = REFUSED
    row.reasons.append(str(reason))


def _plan_row(
    row: RowPlan,
    values: dict[str, str],
    known: _Known,
    seen: dict[str, int],
    new_guardians: dict[str, GuardianPlan],
) -> None:
    first, last = values.get("first_name", ""), values.get("last_name", "")
    row.name = f"{first} {last}".strip()
    if not first or not last:
        _refuse(row, _l("Brak imienia lub nazwiska ucznia."))
    pesel_text, birth_text = values.get("pesel", ""), values.get("birth_date", "")
    pesel: str | None = None
    birth = parse_date(birth_text) if birth_text else None
    if birth_text and birth is None:
        _refuse(row, _l("Nieprawidłowa data urodzenia „%(text)s”.", text=birth_text))
    if pesel_text:
        try:
            parsed = parse_pesel(pesel_text)
        except Refusal as refusal:
            _refuse(row, f"{_l('Błędny PESEL')}: {refusal.message}")
        else:
            pesel = parsed.number
            if birth is not None and birth != parsed.birth_date:
                _refuse(row, _l("Data urodzenia nie zgadza się z numerem PESEL."))
            birth = parsed.birth_date
    elif birth is None:
        _refuse(row, _l("Podaj PESEL albo datę urodzenia ucznia."))
    identity = pesel or f"{folded(first)}|{folded(last)}|{birth}"
    if row.status != REFUSED:
        if identity in seen:
            _refuse(row, _l("Ten sam uczeń jest już w wierszu %(n)s.", n=seen[identity]))
        else:
            seen[identity] = row.number
    pupil = known.by_pesel.get(pesel) if pesel else None
    if pupil is None:
        pupil = known.by_names.get((folded(first), folded(last), birth))
        if pupil is not None and pesel and pupil.pesel and pupil.pesel != pesel:
            pupil = None  # a namesake born the same day, with another PESEL: another child
    class_text = values.get("class_name", "")
    school_class = known.classes.get(class_key(class_text)) if class_text else None
    if class_text and school_class is None:
        _refuse(row, _l("Nie ma klasy „%(name)s” w bieżącym roku szkolnym.", name=class_text))
    elif pupil is None and school_class is None:
        _refuse(row, _l("Podaj klasę nowego ucznia."))
    wanted: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "pesel": pesel,
        "birth_date": birth,
        "birth_place": values.get("birth_place", ""),
        "address": values.get("address", ""),
    }
    wanted = {k: v for k, v in wanted.items() if v}
    guardians = _guardians(row, values, pupil, known, new_guardians)
    if row.status == REFUSED:
        return
    row.class_id = school_class.id if school_class is not None else None
    row.guardians = guardians
    if pupil is None:
        row.status = NEW
        row.pupil_values = wanted
        return
    row.pupil_id = pupil.id
    names = known.names
    for key, value in wanted.items():
        if getattr(pupil, key) != value:
            row.pupil_values[key] = value
            row.changes.append((names.get(key, key), _shown(getattr(pupil, key)), _shown(value)))
    if school_class is not None and school_class.id != pupil.class_id:
        old = known.class_names.get(pupil.class_id, "—")
        row.changes.append((names["class_name"], old, school_class.name))
    else:
        row.class_id = None
    for plan in guardians:
        if plan.user_id is None or plan.link:
            row.changes.append((str(_l("Opiekun")), "—", _guardian_name(plan.values)))
        for key, value in plan.updates.items():
            label = f"{_guardian_name(plan.values)}: {GUARDIAN_FIELDS[key]}"
            row.changes.append((label, "", value))
    if row.changes:
        row.status = CHANGED


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _guardian_name(values: dict[str, str]) -> str:
    return f"{values.get('first_name', '')} {values.get('last_name', '')}".strip()


def _guardians(
    row: RowPlan,
    values: dict[str, str],
    pupil: Pupil | None,
    known: _Known,
    new_guardians: dict[str, GuardianPlan],
) -> list[GuardianPlan]:
    plans = []
    linked = known.guardians.get(pupil.id, []) if pupil is not None else []
    taken: set[int] = set()
    for n in range(1, GUARDIANS + 1):
        given = {
            key: values.get(f"g{n}_{key}", "")
            for key in ("first_name", "last_name", "email", "phone")
        }
        if not any(given.values()):
            continue
        email = given["email"].lower()
        if not given["first_name"] or not given["last_name"]:
            _refuse(row, _l("Brak imienia lub nazwiska opiekuna %(n)s.", n=n))
            continue
        if email and not EMAIL.fullmatch(email):
            _refuse(row, _l("Nieprawidłowy e-mail opiekuna %(n)s.", n=n))
            continue
        if given["phone"] and not PHONE.fullmatch(given["phone"]):
            _refuse(row, _l("Nieprawidłowy telefon opiekuna %(n)s.", n=n))
            continue
        names = (folded(given["first_name"]), folded(given["last_name"]))
        # By e-mail first: two guardians of one child may share names (a mother and daughter).
        free = [u for u in linked if u.id not in taken]
        user = next((u for u in free if email and (u.email or "").lower() == email), None)
        if user is None:
            user = next(
                (u for u in free if (folded(u.first_name), folded(u.last_name)) == names), None
            )
        if user is not None:
            taken.add(user.id)
        link = user is None
        if user is None and email:
            user = known.by_email.get(email)
        if user is None:
            key = email or f"{names}|{row.number}"
            plan = new_guardians.setdefault(key, GuardianPlan(None, key, given))
            plans.append(plan)
            continue
        updates = {}
        if email and (user.email or "").lower() != email:
            updates["email"] = email
        if given["phone"] and user.phone != given["phone"]:
            updates["phone"] = given["phone"]
        plans.append(GuardianPlan(user.id, email, given, link=link, updates=updates))
    return plans
