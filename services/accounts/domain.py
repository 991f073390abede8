"""Pure account rules: valid emails, passwords and businesses; who may grant which role."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.auth import SCOPES
from shared.errors import Problem

ROLES = ("owner", "admin", "member")
MANAGERS = ("owner", "admin")
PLATFORM_ROLES = ("moderator", "admin")
API_SCOPES = frozenset(SCOPES)
"""What an API key may be granted: exactly the scopes the services check (shared.auth.SCOPES).
People's tokens are bounded by their role instead."""
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


def check_name(value: str, field: str = "name") -> str:
    name = value.strip()
    if not name:
        raise invalid(field, "Enter a name.")
    return name


def require_manager(role: str) -> None:
    if role not in MANAGERS:
        raise Problem(403, "forbidden", "Only the business's owners and admins can do this.")


def _check_grant(actor_role: str, current: str | None, new: str | None) -> None:
    """Admins manage admins and members; only owners make, change or remove owners."""
    require_manager(actor_role)
    if new is not None and new not in ROLES:
        raise invalid("role", f"Choose one of: {', '.join(ROLES)}.")
    if actor_role != "owner" and "owner" in (current, new):
        raise Problem(403, "owner-only", "Only an owner can grant, change or remove an owner.")


def check_invitation(actor_role: str, role: str, pending: str | None = None) -> None:
    """Inviting, or renewing the invitation still `pending` for the address (with its role):
    renewing an owner's invitation changes an owner grant, so it is an owner's to do."""
    _check_grant(actor_role, pending, role)


def check_membership_change(
    actor_role: str, *, own: bool, current: str, new: str | None, owners: int
) -> None:
    """Change a role, or end a membership when `new` is None (leaving, when it is one's own).

    A business always keeps an owner: the last one can neither leave nor be demoted.
    """
    if not (own and new is None):
        _check_grant(actor_role, current, new)
    if current == "owner" and new != "owner" and owners <= 1:
        raise Problem(
            409, "last-owner", "A business needs an owner: make someone else owner first."
        )


def check_scopes(scopes: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - API_SCOPES)
    if not scopes or unknown:
        raise invalid("scopes", f"Choose among: {', '.join(sorted(API_SCOPES))}.")
    return tuple(sorted(set(scopes)))


def check_platform_role(role: str) -> str:
    if role not in PLATFORM_ROLES:
        raise invalid("role", f"Choose one of: {', '.join(PLATFORM_ROLES)}.")
    return role


def check_reason(reason: str) -> str:
    text = reason.strip()
    if not text or len(text) > 500:
        raise invalid("reason", "Give a reason of at most 500 characters.")
    return text
