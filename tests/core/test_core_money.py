"""Money input: one accepted format for every amount field (issue 10, item 14)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.money import parse_amount


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("12", "CNY", 1200), ("12.5", "CNY", 1250), ("12.50", "CNY", 1250), ("0.01", "CNY", 1), (" 12.30 ", "CNY", 1230),
    ("1200", "JPY", 1200), ("1.234", "KWD", 1234), (12, "CNY", 1200), (Decimal("12.3"), "CNY", 1230),
])
def test_the_accepted_format(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("text", [
    "１２", "٣", "١٢.٥٠", "१२", "12,5", "12,50", "1,200", "1,200.00", "12 50", "1 200", "+12", "-12", "1e3", "1E3",
    "12.", ".5", "12.5.0", "0x10", "NaN", "inf", "12\n", "\u200b12", "12\u00a0", "", "¥12",
])
def test_everything_else_is_refused_naming_the_format(text):
    with pytest.raises(ValidationFailed) as refused:
        parse_amount(text, "CNY", field="Amount")
    assert "for example 12 or 12.50" in refused.value.message


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-1"), True])
def test_odd_values_are_refused_not_a_500(value):
    with pytest.raises(ValidationFailed):
        parse_amount(value, "CNY")


def test_decimals_beyond_the_currency_are_refused():
    with pytest.raises(ValidationFailed, match="more decimals"):
        parse_amount("12.345", "CNY")
    with pytest.raises(ValidationFailed, match="more decimals"):
        parse_amount("12.5", "JPY")
