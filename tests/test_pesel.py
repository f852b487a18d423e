"""PESEL: checksum, the century in the month, the birth date and sex, and the refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from ediary.errors import Refusal
from ediary.schools.pesel import checksum_digit, parse_pesel


def with_checksum(first_ten: str) -> str:
    return first_ten + str(checksum_digit(first_ten))


@pytest.mark.parametrize(
    ("first_ten", "birth_date", "sex"),
    [
        ("4405140135", dt.date(1944, 5, 14), "M"),  # the ministry's published example 44051401359
        ("1532101253", dt.date(2015, 12, 10), "M"),  # month 32: the 2000s
        ("1621290002", dt.date(2016, 1, 29), "F"),  # month 21: January 2016
        ("0022290008", dt.date(2000, 2, 29), "F"),  # 2000 was a leap year
        ("0142010008", dt.date(2101, 2, 1), "F"),  # month 42: the 2100s
        ("9992310006", dt.date(1899, 12, 31), "F"),  # month 92: the 1800s
    ],
)
def test_a_valid_pesel_gives_its_birth_date_and_sex(
    first_ten: str, birth_date: dt.date, sex: str
) -> None:
    pesel = parse_pesel(with_checksum(first_ten))
    assert (pesel.birth_date, pesel.sex) == (birth_date, sex)


def test_the_published_example_checks() -> None:
    assert parse_pesel(" 44051401359 ").number == "44051401359"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "pesel_format"),
        ("4405140135", "pesel_format"),
        ("440514013591", "pesel_format"),
        ("4405140135x", "pesel_format"),
        ("４４０５１４０１３５９", "pesel_format"),  # full-width digits are digits to isdigit()
        ("44051401358", "pesel_checksum"),
        (with_checksum("1522300000"), "pesel_date"),  # 30 February 2015
        (with_checksum("1562010000"), "pesel_date"),  # month 62: 2200s, outside the law's table
        (with_checksum("1513010000"), "pesel_date"),  # month 13
        (with_checksum("0042290000"), "pesel_date"),  # 29 February 2100 is not a leap day
    ],
)
def test_a_wrong_pesel_is_refused_with_the_reason(text: str, code: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_pesel(text)
    assert refused.value.code == code
