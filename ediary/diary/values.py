"""Grade values: parsing what a teacher types, and what a value is worth in an average."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ediary.diary.models import GradeKind
from ediary.errors import Refusal
from ediary.kiosks.schema import DEFS, limit

_ONGOING = re.compile(r"^([1-6])([+-]?)$")
# The values of an ongoing grade and the length of a descriptive one, stated once in the kiosk
# protocol's schema (kiosk/protocol.schema.json), which the kiosk checks before it keeps an
# entry: 1-6 with + or - but not 1- or 6+ (below the lowest, above the highest grade, which a
# statute never allows), and the marks np, bz, + and - (recorded, counted in no average).
ONGOING = frozenset(DEFS["ongoing_grade"]["enum"])
MAX_DESCRIPTIVE = limit("descriptive")
GRADE_NAMES = {
    1: _l("niedostateczny"),
    2: _l("dopuszczający"),
    3: _l("dostateczny"),
    4: _l("dobry"),
    5: _l("bardzo dobry"),
    6: _l("celujący"),
}


@dataclass(frozen=True)
class GradeValue:
    value: str | None
    descriptive: str | None


def parse_grade(kind: GradeKind, value: str | None, descriptive: str | None) -> GradeValue:
    """The canonical form of a grade, or a Refusal saying what is wrong with it."""
    value = (value or "").strip().lower() or None
    descriptive = (descriptive or "").strip() or None
    if value is None and descriptive is None:
        raise Refusal("grade_empty", _l("Podaj ocenę albo ocenę opisową."))
    if value is not None and descriptive is not None:
        raise Refusal("grade_both", _l("Ocena nie może być jednocześnie cyfrowa i opisowa."))
    if descriptive is not None:
        if len(descriptive) > MAX_DESCRIPTIVE:
            raise Refusal("grade_too_long", _l("Ocena opisowa jest za długa."))
        return GradeValue(None, descriptive)
    assert value is not None
    if kind is GradeKind.ONGOING:
        if value in ONGOING:
            return GradeValue(value, None)
        raise Refusal(
            "grade_invalid",
            _l("Nieprawidłowa ocena: dozwolone 1-6 z + lub -, albo np, bz, +, -."),
        )
    if value in {"1", "2", "3", "4", "5", "6"}:
        return GradeValue(value, None)
    raise Refusal(
        "grade_invalid_final",
        _l("Ocena śródroczna i roczna to liczba całkowita od 1 do 6."),
    )


def numeric(value: str | None, plus: Decimal, minus: Decimal) -> Decimal | None:
    """What a value is worth under the school's modifier rules; None for marks and text."""
    match = _ONGOING.match(value or "")
    if match is None:
        return None
    base = Decimal(match.group(1))
    if match.group(2) == "+":
        return base + plus
    if match.group(2) == "-":
        return base - minus
    return base
