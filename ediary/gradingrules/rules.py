"""What the rules page sends, read into `Rules`, or a Polish `Refusal` saying what is wrong."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from ediary.diary.models import AttendanceType, GradeCategory, Presence
from ediary.errors import Refusal
from ediary.schools.models import ImprovementPolicy

MAX_WEIGHT = 10
MAX_MODIFIER = Decimal("1")


@dataclass(frozen=True)
class CategoryRule:
    id: int
    weight: int
    counts_to_average: bool


@dataclass(frozen=True)
class TypeRule:
    id: int
    counts_as: Presence
    excused: bool


@dataclass(frozen=True)
class Rules:
    plus_value: Decimal
    minus_value: Decimal
    improvement_policy: ImprovementPolicy
    non_classification_percent: int
    categories: tuple[CategoryRule, ...]
    types: tuple[TypeRule, ...]

    def category(self, category_id: int) -> CategoryRule | None:
        return next((c for c in self.categories if c.id == category_id), None)


def read_rules(
    form: Mapping[str, str],
    categories: Sequence[GradeCategory],
    types: Sequence[AttendanceType],
) -> Rules:
    """The rules as typed; every category and type of the school is in the form (a missing
    checkbox is "no", as a browser sends it)."""
    category_rules = []
    for category in categories:
        counts = form.get(f"counts-{category.id}") == "on"
        weight = _weight(form.get(f"weight-{category.id}", ""), category.name, counts)
        category_rules.append(CategoryRule(category.id, weight, counts))
    type_rules = []
    for kind in types:
        try:
            counts_as = Presence(form.get(f"counts-as-{kind.id}", ""))
        except ValueError:
            raise Refusal(
                "type_counts_as", _l("Wybierz, czym jest typ obecności „%(name)s”.", name=kind.name)
            ) from None
        type_rules.append(TypeRule(kind.id, counts_as, form.get(f"excused-{kind.id}") == "on"))
    try:
        policy = ImprovementPolicy(form.get("improvement_policy", ""))
    except ValueError:
        raise Refusal("policy_invalid", _l("Wybierz, jak liczy się poprawa oceny.")) from None
    return Rules(
        plus_value=_modifier(form.get("plus_value", ""), _l("Wartość plusa")),
        minus_value=_modifier(form.get("minus_value", ""), _l("Wartość minusa")),
        improvement_policy=policy,
        non_classification_percent=_percent(form.get("non_classification_percent", "")),
        categories=tuple(category_rules),
        types=tuple(type_rules),
    )


def _weight(raw: str, name: str, counts: bool) -> int:
    try:
        weight = int(raw.strip())
    except ValueError:
        raise Refusal(
            "weight_invalid", _l("Waga kategorii „%(name)s” musi być liczbą całkowitą.", name=name)
        ) from None
    if weight > MAX_WEIGHT or weight < 0:
        raise Refusal(
            "weight_range",
            _l(
                "Waga kategorii „%(name)s” musi wynosić od 0 do %(max)s.", name=name, max=MAX_WEIGHT
            ),
        )
    if weight == 0 and counts:
        raise Refusal(
            "weight_zero",
            _l(
                "Kategoria „%(name)s” liczy się do średniej, więc jej waga nie może wynosić 0.",
                name=name,
            ),
        )
    return weight


def _modifier(raw: str, what: object) -> Decimal:
    try:
        value = Decimal(raw.strip().replace(",", "."))
    except InvalidOperation:
        value = Decimal(-1)
    if (
        not value.is_finite()
        or value < 0
        or value > MAX_MODIFIER
        or value != value.quantize(Decimal("0.01"))
    ):
        raise Refusal(
            "modifier_invalid",
            _l(
                "%(what)s musi być liczbą od 0 do 1 (najwyżej dwa miejsca po przecinku).", what=what
            ),
        )
    return value


def _percent(raw: str) -> int:
    try:
        percent = int(raw.strip())
    except ValueError:
        percent = -1
    if not 1 <= percent <= 100:
        raise Refusal(
            "threshold_invalid",
            _l("Próg frekwencji do klasyfikacji to liczba od 1 do 100 (w procentach)."),
        )
    return percent
