"""Amounts in the smallest currency unit: validation minimums and human formatting."""

from __future__ import annotations

from shared.money import ZERO_DECIMAL

from .errors import StripeError

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$", "inr": "₹"}
MINIMUMS = {"gbp": 30, "jpy": 50, "hkd": 400, "mxn": 1000, "sek": 300, "nok": 300, "dkk": 250}


def format_amount(amount: int, currency: str) -> str:
    """`1250, "usd"` -> `$12.50`; zero-decimal currencies have no minor unit."""
    cur = currency.lower()
    value = f"{amount:,}" if cur in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = SYMBOLS.get(cur)
    return f"{symbol}{value}" if symbol else f"{value} {cur.upper()}"


def validate_amount(amount: int, currency: str, param: str = "amount") -> None:
    """Stripe rejects charges below the settlement minimum (`amount_too_small`)."""
    minimum = MINIMUMS.get(currency, 50)
    if amount < minimum:
        raise StripeError(
            400,
            f"Amount must be at least {format_amount(minimum, currency)} {currency}",
            code="amount_too_small",
            param=param,
            persist=False,
        )
    if amount > 99999999:
        raise StripeError(
            400,
            "Amount must be no more than $999,999.99",
            code="amount_too_large",
            param=param,
            persist=False,
        )


def validate_currency(currency: str, param: str = "currency") -> str:
    cur = currency.lower()
    if len(cur) != 3 or not cur.isalpha():
        raise StripeError(
            400,
            f"Invalid currency: {currency}. Stripe currently supports these currencies: "
            "usd, eur, gbp, ... (see https://stripe.com/docs/currencies)",
            param=param,
            persist=False,
        )
    return cur
