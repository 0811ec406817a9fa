"""Money: integer minor units (fen, cents) with an ISO 4217 currency. Never a float.

``parse_amount("12.30", "CNY") == 1230``; ``format_amount(1230, "CNY") == "¥12.30"``.
The currencies an instance accepts are ``settings.CURRENCIES`` (CNY by default).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import ValidationFailed

# minor-unit exponent per currency (ISO 4217); the ones not listed have 2
EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$", "KRW": "₩"}
MAX_MINOR = 10**15  # a quadrillion minor units: far beyond any single price or transfer
# The one accepted way to write an amount: ASCII digits, optionally a "." and the decimals ("12", "12.5",
# "12.50"). No Unicode digits ("１２", "٣"), no comma (decimal or thousands: "12,5" is ambiguous), no inner
# spaces, signs or exponents. Surrounding spaces (a pasted value) are ignored.
_AMOUNT_RE = re.compile(r"[ \t]*([0-9]{1,16})(?:\.([0-9]{1,3}))?[ \t]*")  # used with fullmatch
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


def accepted_currencies() -> tuple[str, ...]:
    return tuple(getattr(settings, "CURRENCIES", ("CNY",)))


def check_currency(currency: str, *, field: str = "currency") -> str:
    """The currency, upper-cased, if this instance accepts it; else a 422 naming the accepted ones."""
    code = (currency or "").strip().upper()
    if not _CURRENCY_RE.match(code) or code not in accepted_currencies():
        raise ValidationFailed(
            _("%(field)s: %(value)s is not an accepted currency (accepted: %(accepted)s).")
            % {"field": field, "value": currency or "''", "accepted": ", ".join(accepted_currencies())}
        , field=field)
    return code


def check_minor(amount: object, *, field: str = "amount", allow_zero: bool = False) -> int:
    """An amount already in minor units: an int (not bool, not float), positive, within range."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed(_("%(field)s must be a whole number of minor units (fen, cents).") % {"field": field}, field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(_("%(field)s must be greater than zero.") % {"field": field}, field=field)
    if amount > MAX_MINOR:
        raise ValidationFailed(_("%(field)s is too large.") % {"field": field}, field=field)
    return amount


def parse_amount(text: str | int | Decimal, currency: str, *, field: str = "amount") -> int:
    """An amount as typed ("12", "12.5", "12.50"; see ``_AMOUNT_RE``) or an int/Decimal to minor units, exactly.
    Every amount field (web forms, provider notifications, reconciliation files) goes through here."""
    exp = exponent(currency)
    if isinstance(text, bool):
        raise ValidationFailed(_("%(field)s is not an amount.") % {"field": field}, field=field)
    if isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, Decimal):
        if not text.is_finite():
            raise ValidationFailed(_("%(field)s is not an amount.") % {"field": field}, field=field)
        value = text
    else:
        match = _AMOUNT_RE.fullmatch(str(text or ""))
        if not match:
            raise ValidationFailed(
                _("%(field)s is not an amount: %(value)s. Write digits 0-9 with an optional decimal point, for "
                  "example 12 or 12.50 (no commas, spaces, signs or other digits).")
                % {"field": field, "value": str(text)[:40]}, field=field)
        whole, frac = match.groups()
        if frac and len(frac) > exp:
            raise ValidationFailed(
                _("%(field)s has more decimals than %(currency)s allows (%(n)d).")
                % {"field": field, "currency": currency, "n": exp}
            , field=field)
        try:
            value = Decimal(f"{whole}.{frac or '0'}")
        except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes it
            raise ValidationFailed(_("%(field)s is not an amount.") % {"field": field}, field=field) from exc
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise ValidationFailed(
            _("%(field)s has more decimals than %(currency)s allows (%(n)d).") % {"field": field, "currency": currency, "n": exp}
        , field=field)
    return check_minor(int(scaled), field=field, allow_zero=True)


def to_decimal_string(amount: int, currency: str) -> str:
    """Minor units back to a plain decimal string: 1230 CNY -> "12.30"."""
    exp = exponent(currency)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if exp == 0:
        return f"{sign}{amount}"
    return f"{sign}{amount // 10**exp}.{amount % 10**exp:0{exp}d}"


def format_amount(amount: int, currency: str) -> str:
    """For display: "¥12.30", "$1,234.50", "12.30 CHF"."""
    plain = to_decimal_string(amount, currency)
    sign = ""
    if plain.startswith("-"):
        sign, plain = "-", plain[1:]
    whole, _dot, frac = plain.partition(".")
    whole = f"{int(whole):,}"
    body = f"{whole}.{frac}" if frac else whole
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"


def rate_of(amount: int, basis_points: int) -> int:
    """``amount × basis_points / 10000``, rounded half down to whole minor units (never in anyone's favour by
    more than half a fen); integers only."""
    numerator = amount * basis_points
    quotient, remainder = divmod(numerator, 10_000)
    return quotient + (1 if remainder * 2 > 10_000 else 0)
