"""Ids as the database can hold them, for every route and every request parameter.

An id the database cannot even compare (a URL of twenty digits) must look like any missing object,
never reach the database: SQLite raises OverflowError past 2**63 - 1, and PostgreSQL's `integer`
columns (every table's id but the journal's and the history's, which are `bigint`) refuse anything
past 2**31 - 1 with "integer out of range", because SQLAlchemy's psycopg dialect binds the
parameter as the column's type. Python's int() also refuses strings of more than 4300 digits
with ValueError. So the app's `int` URL converter and every integer read from a query string or
a form go through here: ASCII digits, bounded length, bounded value.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map

from ediary.errors import Refusal

MAX_ID = 2**31 - 1  # PostgreSQL `integer`: the ids of every table reached by a URL
MAX_BIG_ID = 2**63 - 1  # PostgreSQL `bigint` and SQLite's integer: history and journal ids


def parse_id(raw: str, high: int = MAX_ID) -> int | None:
    """`raw` as an id in 1..high, or None. `str.isdigit` alone is not enough: it accepts "²"."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(high)):
        return None
    value = int(raw)
    return value if 1 <= value <= high else None


class IdConverter(IntegerConverter):
    """`<int:...>` for the whole app: an id the database holds, else a 404 for every method and
    actor, before any login check or query (an id nobody can hold is a missing object)."""

    regex = r"[0-9]+"  # werkzeug's `\d+` also matches other scripts' digits

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        # NotFound, not werkzeug's ValidationError ("try the next rule"): werkzeug compares the
        # method before converting, so a POST to /lessons/<huge> would meet the GET rule and
        # answer 405. Checked before int(): 5,000 digits raise ValueError, not a 404.
        found = parse_id(value, self.max or MAX_ID)
        if found is None:
            raise NotFound()
        return found


def id_arg(name: str, high: int = MAX_ID) -> int | None:
    """`?name=<id>`: None when absent; any other value is a missing page (404)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    value = parse_id(raw, high)
    if value is None:
        raise NotFound()
    return value


def form_ids(name: str, high: int = MAX_ID) -> list[int]:
    """Every value of the form field `name`, each an id; anything else refuses the request."""
    values = [parse_id(raw, high) for raw in request.form.getlist(name)]
    if any(value is None for value in values):
        raise Refusal("invalid", _l("Nieprawidłowe dane formularza. Odśwież stronę."))
    return [value for value in values if value is not None]
