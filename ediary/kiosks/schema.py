"""What a kiosk may send, checked against the protocol's one schema (kiosk/protocol.schema.json).

The schema is the kiosk package's data file, read here through importlib.resources (the server
imports no kiosk code, the kiosk none of the server's); the agent validates what it sends against
the same file. Names in it: `<event>.request`, `kind.<kind>`, `connect.auth`, `enroll.request`.

The schema refuses unknown keys (no mass assignment), booleans and 1.0 as integers (JSON `true`
is an `int` in Python), ids beyond PostgreSQL's `integer`, and NUL in strings (PostgreSQL cannot
store it, and the error would come from the database instead of from us). A refusal names the
first bad field in the order a reader meets it: unknown keys first, then the declared fields in
the schema's order, the pupils of a roll in the order sent (`payload.states.12`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jsonschema_rs
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator, ValidationError, validators

from ediary.errors import Refusal

SCHEMA: dict[str, Any] = json.loads(
    resources.files("kiosk").joinpath("protocol.schema.json").read_text(encoding="utf-8")
)
DEFS: dict[str, Any] = SCHEMA["$defs"]

# A submission is small: a roll of 40 pupils is about 2 KB, a long remark 8 KB of JSON. Checked by
# hand, before the schema: JSON Schema has no keyword for a document's size, and a validator
# walking 200 KB of pupils would spend the time the limit is there to save.
MAX_EVENT_BYTES = 32 * 1024


def limit(name: str, keyword: str = "maxLength") -> int:
    """A limit the server applies, as the schema states it (e.g. `limit("topic")`)."""
    return int(DEFS[name][keyword])


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


def validate(name: str, value: Any, *, field: str = "") -> Any:
    """`value` if it is a valid `name` of the schema, else `Invalid` naming the first bad field
    (below `field`, where `value` is a part of what was sent)."""
    if not field:
        check_size(value)
    if _surely_valid(name, value):
        return value
    errors = list(_validator(name).iter_errors(value))
    if errors:
        places = (_place(error, value, _inlined(name)) for error in errors)
        first = min(places, key=lambda place: place[0])[1]
        raise Invalid(".".join(part for part in (field, first) if part))
    return value


# --- the validator: JSON Schema 2020-12, with integers as the schema's description says --------


_Validator = validators.extend(
    Draft202012Validator,
    # JSON Schema counts 1.0 as an integer; the protocol does not (nor `true`, Python's int).
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


@functools.cache
def _validator(name: str) -> Any:
    return _Validator(_inlined(name))


def _surely_valid(name: str, value: Any) -> bool:
    """Whether `value` is a valid `name` by jsonschema-rs, a compiled validator of the same
    schema: true only where `_validator` would find no error, so that everything else (every
    refusal, and the field it names) is decided by `_validator` alone.

    jsonschema walked a roll of 25 pupils in 630 µs, a tenth of what a roll's write costs;
    jsonschema-rs answers in 6 µs (`timeit`). Where the two could differ, the answer here is
    false: anything but JSON's own types as a JSON parser makes them, and a float anywhere (JSON
    Schema counts 1.0 as an integer, the protocol does not). Its regular expressions are no
    more lenient than Python's (its `$` ends the text; Python's also matches before a final
    newline), and an integer past 64 bits is invalid to it."""
    if not _plain_json(value):
        return False
    try:
        return bool(_compiled(name).is_valid(value))
    except ValueError:  # a value it cannot read
        return False


@functools.cache
def _compiled(name: str) -> Any:
    return jsonschema_rs.Draft202012Validator({"$defs": DEFS, "$ref": f"#/$defs/{name}"})


_PLAIN = (str, int, bool, type(None))


def _plain_json(value: Any) -> bool:
    """Whether `value` is made of JSON's types alone, exactly as `json.loads` makes them, with
    no float (a loop, not recursion: the depth is the sender's)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            if any(type(key) is not str for key in item):
                return False
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind not in _PLAIN:
            return False
    return True


@functools.cache
def _inlined(name: str) -> Any:
    """The definition with every `$ref` replaced by what it names (the schema has no cycles).

    jsonschema resolves a `$ref` at every use, through its registry: a roll naming 25 pupils
    took 2.3 ms to validate that way, 1.4 ms inlined."""
    return _inline(DEFS[name])


def _inline(node: Any) -> Any:
    if isinstance(node, list):
        return [_inline(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    inlined = {key: _inline(value) for key, value in node.items() if key != "$ref"}
    if "$ref" not in node:
        return inlined
    target = _inline(DEFS[node["$ref"].removeprefix("#/$defs/")])
    if set(target) & set(inlined) - {"description"}:
        return {**inlined, "allOf": [target]}  # both constrain one keyword: keep both
    return {**target, **inlined}


def _pupil(key: str) -> str:
    return str(int(key)) if key.isascii() and key.isdigit() else key


def _place(error: ValidationError, value: Any, node: Any) -> tuple[list[tuple[int, ...]], str]:
    """Where an error is, as (its rank in reading order, the field's name); `node` is the
    definition validated against.

    The rank orders the fields of one object as a reader meets them: unknown keys first (in the
    order sent), then the declared fields in the schema's order, the entries of a map (a roll's
    pupils, `patternProperties`) in the order sent, a map's key before its value; a whole object
    before its fields."""
    rank: list[tuple[int, ...]] = []
    names: list[str] = []
    instance, path = value, iter(error.absolute_path)
    steps = list(error.absolute_schema_path)[:-1]  # the last one is the failing keyword
    index = 0
    while index < len(steps):
        step = steps[index]
        if step == "properties":
            name = steps[index + 1]
            rank.append((1, list(node["properties"]).index(name)))
            names.append(name)
            node, instance = node["properties"][name], instance[next(path)]
            index += 2
            continue
        if step == "patternProperties":  # a map's value
            key = next(path)
            rank.append((1, list(instance).index(key), 1))
            names.append(_pupil(key))
            node, instance = node[step][steps[index + 1]], instance[key]
            index += 2
            continue
        node = node[step]
        index += 1
    missing = _missing(error)
    if missing is not None:
        rank.append((1, list(error.schema["properties"]).index(missing)))
        names.append(missing)
    elif error.validator == "additionalProperties" and "patternProperties" in error.schema:
        patterns = list(error.schema["patternProperties"])
        key = next(k for k in error.instance if not any(re.search(p, k) for p in patterns))
        rank.append((1, list(error.instance).index(key), 0))  # a map's key, before its value
        names.append(key[:12])
    elif error.validator == "additionalProperties":
        declared = error.schema.get("properties", {})
        unknown = next(key for key in error.instance if key not in declared)
        rank.append((0, list(error.instance).index(unknown)))
        names.append(unknown if names else str(unknown)[:40])
    return rank, ".".join(names)


def _missing(error: ValidationError) -> str | None:
    """The first missing field of a `required` or `dependentRequired` error, else None."""
    if error.validator == "required":
        return str(next(key for key in error.validator_value if key not in error.instance))
    if error.validator == "dependentRequired":
        return str(
            next(
                needed
                for field, needs in error.validator_value.items()
                if field in error.instance
                for needed in needs
                if needed not in error.instance
            )
        )
    return None
