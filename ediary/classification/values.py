"""The values of proposed and final (term and year) grades: stated here once.

A proposed or final grade is an ordinary `Grade` row (ediary/diary/models.py) of kind
PROPOSED_TERM, TERM, PROPOSED_YEAR or YEAR (the year's on the last term). Its `value` is a whole
grade "1".."6" (no "+"/"-": the statute's final grades have none), "nkl" (nieklasyfikowany: not
classified, e.g. absent from more than half the lessons) or "zw" (zwolniony: released from the
subject, e.g. PE on a doctor's opinion). In classes 1-3 of primary school it is descriptive text
instead (`descriptive`, at most `MAX_DESCRIPTIVE` characters, the kiosk protocol's limit).
The council sheet (ediary/council) reads these names and sets too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ediary.diary.models import GradeKind
from ediary.diary.values import GRADE_NAMES, MAX_DESCRIPTIVE
from ediary.errors import Refusal

__all__ = [
    "DESCRIPTIVE_LEVELS",
    "EARLY_NOTICE",
    "FAILING",
    "FINAL_KINDS",
    "MAX_DESCRIPTIVE",
    "NOT_CLASSIFIED",
    "NUMERIC",
    "PROPOSED_KINDS",
    "RELEASED",
    "VALUES",
    "VALUE_NAMES",
    "FinalValue",
    "is_descriptive_level",
    "parse_final",
    "proposal_of",
]

NUMERIC = ("1", "2", "3", "4", "5", "6")
NOT_CLASSIFIED = "nkl"  # nieklasyfikowany
RELEASED = "zw"  # zwolniony
VALUES = (*NUMERIC, NOT_CLASSIFIED, RELEASED)
FAILING = "1"  # niedostateczny: below it no promotion
# The parents learn of these earlier (the statute: of a failing grade and of non-classification
# about a month ahead): their proposals are due by `calendar.proposal_deadline(term, True)`.
EARLY_NOTICE = frozenset({FAILING, NOT_CLASSIFIED})
VALUE_NAMES: dict[str, LazyString] = {
    **{str(n): name for n, name in GRADE_NAMES.items()},
    NOT_CLASSIFIED: _l("nieklasyfikowany"),
    RELEASED: _l("zwolniony"),
}

# Grades 1-3 of primary school (edukacja wczesnoszkolna) get descriptive grades instead.
DESCRIPTIVE_LEVELS = frozenset({1, 2, 3})

PROPOSED_KINDS = (GradeKind.PROPOSED_TERM, GradeKind.PROPOSED_YEAR)
FINAL_KINDS = (GradeKind.TERM, GradeKind.YEAR)
_PROPOSAL_OF = {GradeKind.TERM: GradeKind.PROPOSED_TERM, GradeKind.YEAR: GradeKind.PROPOSED_YEAR}


def proposal_of(kind: GradeKind) -> GradeKind:
    """The proposed kind that comes before a final kind (TERM → PROPOSED_TERM)."""
    return _PROPOSAL_OF[kind]


def is_descriptive_level(grade_level: int) -> bool:
    return grade_level in DESCRIPTIVE_LEVELS


@dataclass(frozen=True)
class FinalValue:
    value: str | None
    descriptive: str | None

    @property
    def failing(self) -> bool:
        return self.value == FAILING

    @property
    def early_notice(self) -> bool:
        """A proposal the parents must learn of early (its deadline is the earlier one)."""
        return self.value in EARLY_NOTICE


def parse_final(text: str | None, *, descriptive: bool) -> FinalValue:
    """What a teacher typed as a proposed or final grade, canonical, or a Polish Refusal.
    `descriptive`: the class is one of grades 1-3 (text instead of a mark)."""
    text = (text or "").strip()
    if not text:
        raise Refusal("grade_empty", _l("Podaj ocenę."))
    if descriptive:
        if len(text) > MAX_DESCRIPTIVE:
            raise Refusal(
                "grade_too_long",
                _l("Ocena opisowa jest za długa (najwyżej %(n)s znaków).", n=MAX_DESCRIPTIVE),
            )
        return FinalValue(None, text)
    value = text.lower()
    if value not in VALUES:
        raise Refusal(
            "grade_invalid_final",
            _l("Ocena śródroczna, roczna i przewidywana to 1-6 (bez + i -), nkl albo zw."),
        )
    return FinalValue(value, None)
