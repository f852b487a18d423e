"""The diary as XML, streamed: rows are read in batches and written as they come, so a school's
year (300k+ rows) takes constant memory (bench/records.py prints the figure).

The document: `<dziennik>` in the namespace `contents.NAMESPACE`, one container per part of
`contents.PARTS` in their order, each row an element whose attributes are its columns (an empty
value is left out); a change's old and new values are JSON in child elements. docs/dziennik-1.xsd
describes it, and every export is validated against it (`validate`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from lxml import etree
from sqlalchemy import JSON, select
from sqlalchemy.orm import Session

from ediary.errors import Refusal
from ediary.ids import MAX_ID
from ediary.records.contents import NAMESPACE, PARTS, VERSION, Part, Scope
from ediary.schools.models import SchoolClass, SchoolYear

BATCH = 2000
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "dziennik-1.xsd"


@dataclass
class Summary:
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def scope_of(session: Session, school_id: int, year_id: int, class_id: int | None = None) -> Scope:
    year = session.get(SchoolYear, year_id) if 0 < year_id <= MAX_ID else None
    if year is None or year.school_id != school_id:
        raise Refusal("no_year", _l("Nie ma takiego roku szkolnego w tej szkole."))
    if class_id is not None:
        school_class = session.get(SchoolClass, class_id) if 0 < class_id <= MAX_ID else None
        if school_class is None or school_class.year_id != year_id:
            raise Refusal("no_class", _l("Nie ma takiej klasy w tym roku szkolnym."))
    return Scope(school_id, year_id, year.starts_on, year.ends_on, class_id)


def text(value: Any) -> str:
    """A column's value as the schema writes it (xs:dateTime with its offset, xs:boolean...)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def _batches(session: Session, scope: Scope, part: Part) -> Iterator[Any]:
    """The part's rows in id order, a batch at a time: keyset pages (`id > last`), not a
    server-side cursor, whose fast-start plans made PostgreSQL 12 times slower here
    (bench/records.py); memory stays that of one batch either way."""
    columns = [part.table.c[name] for name in part.columns]
    key = part.table.c.id
    last = 0
    while True:
        query = select(*columns).where(part.rows(scope), key > last).order_by(key).limit(BATCH)
        rows = session.execute(query).mappings().all()
        yield from rows
        if len(rows) < BATCH:
            return
        last = rows[-1]["id"]


def _rows(
    session: Session, scope: Scope
) -> Iterator[tuple[str, list[str], list[str], Iterator[Any]]]:
    for part in PARTS:
        plain = [n for n in part.columns if not isinstance(part.table.c[n].type, JSON)]
        nested = [n for n in part.columns if isinstance(part.table.c[n].type, JSON)]
        yield part.element, plain, nested, _batches(session, scope, part)


def write(session: Session, scope: Scope, out: IO[bytes]) -> Summary:
    """Writes the scope's diary to `out`; returns how many rows of each part it wrote."""
    summary = Summary()
    ns = f"{{{NAMESPACE}}}"
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        root = {
            "version": VERSION,
            "school": str(scope.school_id),
            "year": str(scope.year_id),
            "generated": text(dt.datetime.now(dt.UTC)),
        }
        if scope.class_id is not None:
            root["class"] = str(scope.class_id)
        with xf.element(f"{ns}dziennik", root, nsmap={None: NAMESPACE}):
            for element, plain, nested, rows in _rows(session, scope):
                count = 0
                with xf.element(f"{ns}{element}s"):
                    for row in rows:
                        attrs = {k: text(row[k]) for k in plain if row[k] is not None}
                        item = etree.Element(f"{ns}{element}", attrs)
                        for name in nested:
                            if row[name] is not None:
                                child = etree.SubElement(item, f"{ns}{name}")
                                child.text = json.dumps(
                                    row[name], ensure_ascii=False, sort_keys=True
                                )
                        xf.write(item)
                        count += 1
                        if count % BATCH == 0:
                            xf.flush()
                summary.rows[element] = count
    return summary


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


def validate(path: Path) -> None:
    """Checks a file against docs/dziennik-1.xsd while reading it (iterparse with the schema, so a
    large file takes constant memory); raises `etree.XMLSyntaxError` saying where it is invalid."""
    # No entities, no network, no DTD: the file may come from elsewhere (a restore).
    for _event, element in etree.iterparse(
        str(path),
        schema=schema(),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    ):
        if element.getparent() is not None and element.getparent().getparent() is not None:
            element.clear(keep_tail=True)
