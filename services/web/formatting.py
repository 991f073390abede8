"""How money and times read on pages: minor units in the currency's format, times in the zone
that matters (the resource's) with the viewer's beside it when they differ."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "SEK": "SEK "}
ZERO_DECIMAL = frozenset({"JPY", "KRW", "CLP", "VND", "ISK", "HUF"})
"""ISO 4217 currencies without minor units (Stripe's list, trimmed to the likely ones)."""


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def money(amount: int | None, currency: str) -> str:
    """2500, "EUR" → "€25.00"."""
    if amount is None:
        return ""
    code = currency.upper()
    places = exponent(code)
    value = Decimal(amount).scaleb(-places)
    text = f"{value:,.{places}f}"
    symbol = SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{text} {code}"


def price(amount: int, currency: str) -> str:
    """A listing's price: money, or "Free" for lending at no charge."""
    return "Free" if amount == 0 else money(amount, currency)


def minor_units(text: str, currency: str, most: int) -> int:
    """ "25", "25.5" or "25,50" in the currency → integer minor units, at most `most`; otherwise
    ValueError with the message to show (for "abc", "NaN", "Infinity", "1e309" alike)."""
    try:
        value = Decimal(text.strip().replace(",", ".") or "0")
    except InvalidOperation as exc:
        raise ValueError("Enter an amount like 25.00") from exc
    places = exponent(currency)
    if not value.is_finite():
        raise ValueError("Enter an amount like 25.00")
    if value > Decimal(most).scaleb(-places):
        raise ValueError(f"Enter an amount of at most {money(most, currency)}")
    scaled = value.scaleb(places)
    if value < 0 or scaled != scaled.to_integral_value():
        raise ValueError(f"Enter a positive amount with at most {places} decimals")
    return int(scaled)


def hours(minutes: int) -> str:
    """A number of minutes as hours the way people type them: 15 → "0.25", 129600 → "2160"."""
    return f"{(Decimal(minutes) / 60).normalize():f}"


def minutes(text: str, least: int, most: int) -> int:
    """Hours typed in a form ("1.5", "1,5") → whole minutes from `least` to `most`; otherwise
    ValueError with the message to show, in hours (for "abc", "inf", "1e309" alike)."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError("Enter a number of hours, like 1 or 1.5") from exc
    if not value.is_finite():
        raise ValueError("Enter a number of hours, like 1 or 1.5")
    if not Decimal(least) / 60 <= value <= Decimal(most) / 60:
        raise ValueError(f"Enter from {hours(least)} to {hours(most)} hours")
    return round(value * 60)


def major(amount: int | None, currency: str) -> str:
    """Minor units back into the form field's text ("25.00")."""
    if amount is None:
        return ""
    places = exponent(currency)
    return f"{Decimal(amount).scaleb(-places):.{places}f}"


def parse_time(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def local(value: str | datetime, zone: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    return parse_time(value).astimezone(ZoneInfo(zone)).strftime(fmt)


def when(value: str | datetime, zone: str, viewer_zone: str | None = None) -> str:
    """A time in `zone` (named), plus the viewer's local time when their zone differs."""
    main = f"{local(value, zone)} ({zone})"
    if viewer_zone and viewer_zone != zone:
        mine = parse_time(value).astimezone(ZoneInfo(viewer_zone))
        other = parse_time(value).astimezone(ZoneInfo(zone))
        if mine.utcoffset() != other.utcoffset():
            return f"{main} · {local(value, viewer_zone, '%a %H:%M')} your time ({viewer_zone})"
    return main


def until(end: str | datetime, start: str | datetime, zone: str) -> str:
    """The end of a window in `zone`: its time alone on the start's day, else day and time too
    (a rental over several days)."""
    same_day = local(end, zone, "%Y%m%d") == local(start, zone, "%Y%m%d")
    return local(end, zone, "%H:%M") if same_day else local(end, zone)


DAY_MINUTES = 24 * 60


def duration(minutes: int) -> str:
    """90 → "1 h 30 min", 20160 → "14 days": whole days read as days."""
    days, rest = divmod(int(minutes), DAY_MINUTES)
    hours, rest = divmod(rest, 60)
    parts = [f"{days} day{'' if days == 1 else 's'}"] if days else []
    parts += ([f"{hours} h"] if hours else []) + ([f"{rest} min"] if rest else [])
    return " ".join(parts) or "0 min"


def booking_length(shortest: int, longest: int, price_unit: str) -> str:
    """A listing's shortest to longest booking ("1 h to 14 days"); something priced per day
    is charged each started day, so its shortest reads in whole days ("1 day to 14 days")."""
    if price_unit == "day":
        shortest = max(1, -(-shortest // DAY_MINUTES)) * DAY_MINUTES
    return f"{duration(shortest)} to {duration(longest)}"


def merged(query: dict[str, str], **changes: str) -> dict[str, str]:
    """A page's query with some parameters changed, for filter and next-page links."""
    return {**query, **changes}


STRIPE_REQUIREMENTS = {
    "business_profile.mcc": "Business category",
    "business_profile.url": "Business website",
    "business_profile.product_description": "Description of what you sell",
    "business_profile": "Business details",
    "business_type": "Type of business",
    "tos_acceptance": "Terms of service acceptance",
    "external_account": "Bank account",
    "representative.verification": "Representative's identity document",
    "representative": "Representative's identity",
    "individual.verification": "Identity document",
    "individual": "Your identity",
    "company.tax_id": "Company tax ID",
    "company.address": "Company address",
    "company.verification": "Company registration document",
    "company": "Company details",
    "owners": "Business owners",
    "directors": "Directors",
    "executives": "Executives",
}
"""Stripe's requirement codes (`tos_acceptance.ip`) by their prefix, as people read them."""


def requirements(codes: list[str]) -> list[str]:
    """What Stripe still needs, in words, each once (`tos_acceptance.date` and `.ip` are one
    step); a code without a label is shown as Stripe names it."""
    labels: dict[str, None] = {}
    for code in codes:
        parts = code.split(".")
        prefixes = (".".join(parts[:n]) for n in range(len(parts), 0, -1))
        found = next((STRIPE_REQUIREMENTS[p] for p in prefixes if p in STRIPE_REQUIREMENTS), code)
        labels[found] = None
    return list(labels)


FILTERS = {
    "requirements": requirements,
    "money": money,
    "price": price,
    "major": major,
    "when": when,
    "local": local,
    "until": until,
    "merged": merged,
    "duration": duration,
    "booking_length": booking_length,
}
