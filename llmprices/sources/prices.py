"""Reading a price field, the one way every parser does it: exact decimals, one conversion to USD per million.

Sources quote prices as strings or JSON numbers, per token (OpenRouter, LiteLLM), per thousand tokens (some
pricing pages) or per million (genai-prices, Hugging Face, CSV imports). Going through `Decimal(str(value))`
keeps "0.0000001" per token at 0.1 per million instead of 0.09999999999999999.

A price quoted as a JSON number arrives as a float, and some carry binary noise from the tool that wrote them:
LiteLLM's file holds `7.900000000000001e-07` (0.79 per million divided by 10^6 in floating point) and
`1.5000999999999998e-07` (0.15001). A float64 holds any decimal of up to 15 significant digits exactly
(C's DBL_DIG), so digits beyond the 15th are never part of a quoted price: a float is read at
`QUOTED_SIGNIFICANT_DIGITS`, which gives back 7.9e-07 and 1.5001e-07. Strings are taken exactly as quoted.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

#: Multipliers from a quoted unit to USD per million tokens.
PER_MTOK = Decimal(1)
PER_1K_TOKENS = Decimal(1000)
PER_TOKEN = Decimal(1_000_000)
#: Significant digits a price quoted as a float can carry (float64 keeps 15 decimal digits exactly).
QUOTED_SIGNIFICANT_DIGITS = 15


class BadPrice(ValueError):
    """A price field that is not a price; the message is the quarantine reason."""


def decimal_amount(value: object, field_name: str) -> Decimal:
    """A price field as an exact Decimal, or BadPrice: a string as quoted, a JSON number (float) at the
    `QUOTED_SIGNIFICANT_DIGITS` it can carry (its binary noise dropped).

    OpenRouter's "-1" marks a dynamic (router) price, which is not a price.
    """
    if value is None or value == "":
        raise BadPrice(f"{field_name} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BadPrice(f"{field_name}={value!r} is not a number")
    try:
        text = format(value, f".{QUOTED_SIGNIFICANT_DIGITS}g") if isinstance(value, float) else str(value).strip()
        amount = Decimal(text)
    except InvalidOperation:
        raise BadPrice(f"{field_name}={value!r} is not a number") from None
    if not amount.is_finite():
        raise BadPrice(f"{field_name}={value!r} is not a finite number")
    if amount == -1:
        raise BadPrice(f"{field_name}=-1 marks a dynamic/variable price, not a price")
    return amount


def usd_per_mtok(value: object, field_name: str, unit: Decimal = PER_MTOK, discount: Decimal = Decimal(0)) -> float:
    """A price quoted in `unit` (`PER_TOKEN`, `PER_1K_TOKENS`, `PER_MTOK`) as USD per million tokens, less a
    `discount` fraction, converted once from exact decimals."""
    return float(decimal_amount(value, field_name) * unit * (1 - discount))


def optional_usd_per_mtok(value: object, unit: Decimal = PER_MTOK) -> float | None:
    """An optional price (e.g. cache reads): its USD per million, or None when it is absent or not a price."""
    try:
        return usd_per_mtok(value, "optional price", unit)
    except BadPrice:
        return None
