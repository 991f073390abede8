"""Money is integer minor units plus an ISO 4217 code; how many digits the minor unit has."""

from __future__ import annotations

ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
"""Currencies without a minor unit, as Stripe lists them (amounts are whole units)."""


def decimal(amount: int, currency: str, *, grouped: bool = False) -> str:
    """`1250, "eur"` -> `12.50`; `500, "jpy"` -> `500`; exact, never through a float."""
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    if currency.lower() in ZERO_DECIMAL:
        return f"{sign}{value:,}" if grouped else f"{sign}{value}"
    units = f"{value // 100:,}" if grouped else str(value // 100)
    return f"{sign}{units}.{value % 100:02d}"
