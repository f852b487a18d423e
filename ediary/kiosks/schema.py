"""One small schema layer for everything a kiosk sends: types, sizes, ids, nothing unexpected.

A spec is a function `(value, path) -> cleaned value` that raises `Invalid` naming the field.
Objects refuse unknown keys (no mass assignment); integers refuse booleans (JSON `true` is an
`int` in Python) and stay within PostgreSQL's `integer`; strings refuse NUL (PostgreSQL cannot
store it, and the error would come from the database instead of from us).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from ediary.errors import Refusal
from ediary.ids import MAX_ID  # the one bound of ids, shared with the web

Spec = Callable[[Any, str], Any]

# A submission is small: a roll of 40 pupils is about 2 KB, a long remark 8 KB of JSON.
MAX_EVENT_BYTES = 32 * 1024


class Invalid(Refusal):
    def __init__(self, path: str) -> None:
        super().__init__(
            "invalid", _l("Nieprawidłowe dane: pole „%(field)s”.", field=path), field=path
        )


def canonical_json(value: Any) -> str:
    """The one serialisation the idempotency digest is computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_size(value: Any) -> None:
    try:
        size = len(canonical_json(value).encode())
    except (TypeError, ValueError, RecursionError) as error:
        raise Invalid("$") from error
    if size > MAX_EVENT_BYTES:
        raise Refusal("too_large", _l("Za dużo danych w jednym zgłoszeniu."), limit=MAX_EVENT_BYTES)


def integer(low: int = 1, high: int = MAX_ID) -> Spec:
    def check(value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(path)
        return value

    return check


def text(max_length: int, *, min_length: int = 1) -> Spec:
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or not min_length <= len(value) <= max_length:
            raise Invalid(path)
        if "\x00" in value:
            raise Invalid(path)
        return value

    return check


def boolean() -> Spec:
    def check(value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise Invalid(path)
        return value

    return check


def choice(*allowed: str) -> Spec:
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise Invalid(path)
        return value

    return check


def nullable(spec: Spec) -> Spec:
    def check(value: Any, path: str) -> Any:
        return None if value is None else spec(value, path)

    return check


def uuid_key() -> Spec:
    """A client-made UUID, in its canonical lowercase form (so "A1..." and "a1..." are one key)."""

    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or len(value) > 40:
            raise Invalid(path)
        try:
            return str(uuid.UUID(value))
        except ValueError as error:
            raise Invalid(path) from error

    return check


def array(item: Spec, *, max_items: int, min_items: int = 0) -> Spec:
    def check(value: Any, path: str) -> list[Any]:
        if not isinstance(value, list) or not min_items <= len(value) <= max_items:
            raise Invalid(path)
        return [item(element, f"{path}[{index}]") for index, element in enumerate(value)]

    return check


def obj(required: Mapping[str, Spec], optional: Mapping[str, Spec] | None = None) -> Spec:
    optional = optional or {}

    def check(value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid(path)
        for key in value:
            if key not in required and key not in optional:
                raise Invalid(f"{path}.{key}" if path else str(key)[:40])
        cleaned: dict[str, Any] = {}
        for key, spec in required.items():
            if key not in value:
                raise Invalid(f"{path}.{key}" if path else key)
            cleaned[key] = spec(value[key], f"{path}.{key}" if path else key)
        for key, spec in optional.items():
            if key in value:
                cleaned[key] = spec(value[key], f"{path}.{key}" if path else key)
        return cleaned

    return check


def validate(spec: Spec, value: Any) -> Any:
    check_size(value)
    return spec(value, "")
