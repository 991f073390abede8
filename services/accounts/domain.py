"""Pure account rules: what a valid email, password, slug and business look like."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import Problem

ROLES = ("owner", "admin", "member")
MIN_PASSWORD = 10
MAX_PASSWORD = 128
_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,58}[a-z0-9])$")
COMMON_PASSWORDS = frozenset(
    {
        "password123",
        "1234567890",
        "qwertyuiop",
        "password1234",
        "iloveyou123",
        "123456789a",
        "abc1234567",
        "letmein1234",
        "welcome123",
        "passw0rd123",
        "1q2w3e4r5t",
        "qwerty12345",
        "0123456789",
        "administrator",
        "changeme123",
    }
)
# ISO 4217 codes we can settle through Stripe; kept short on purpose.
CURRENCIES = frozenset(
    {"EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "CAD", "AUD"}
)


def invalid(field: str, message: str) -> Problem:
    return Problem(422, "invalid-field", message, field=field)


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise invalid("email", "Enter a valid email address.")
    return value


def check_password(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise invalid("password", f"Use at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise invalid("password", f"Use at most {MAX_PASSWORD} characters.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or lowered == email.lower() or len(set(password)) < 4:
        raise invalid("password", "This password is too easy to guess; choose another.")


def check_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise invalid("slug", "Use 3-60 lower-case letters, digits or dashes.")
    return slug


def check_business(country: str, currency: str, timezone: str) -> tuple[str, str, str]:
    if not re.fullmatch(r"[A-Za-z]{2}", country):
        raise invalid("country", "Use a two-letter ISO 3166 country code.")
    if currency.upper() not in CURRENCIES:
        raise invalid("currency", f"Supported currencies: {', '.join(sorted(CURRENCIES))}.")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise invalid("timezone", "Use an IANA time zone such as Europe/Paris.") from exc
    return country.upper(), currency.upper(), timezone
