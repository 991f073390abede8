"""Pure directory rules: listing validation, the moderation state machine, who sees what."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import msgspec

from services.directory.schemas import DETAILS
from shared.availability import Availability, InvalidAvailability, validate
from shared.errors import Problem

PUBLIC_TEXT = ("title", "description", "category")
"""Fields whose change on a live listing waits for a moderator; the rest apply at once."""


def pending_edits(
    waiting: dict[str, Any] | None, proposed: dict[str, Any], live: dict[str, Any]
) -> dict[str, Any] | None:
    """What waits for review after an edit of a live listing: the proposed text that differs
    from the live text, on top of what waited before. Proposing the live value again withdraws
    that field's change, so moderators and owners see only real changes."""
    merged = {**(waiting or {}), **proposed}
    return {k: v for k, v in merged.items() if v != live.get(k)} or None


# (status, action) -> next status. Anything else is an illegal move (409 with the status).
MODERATION: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("rejected", "submit"): "submitted",
    ("unpublished", "submit"): "submitted",
    ("submitted", "approve"): "published",
    ("submitted", "reject"): "rejected",
    ("published", "unpublish"): "unpublished",
    ("submitted", "withdraw"): "draft",
}
KIND_CATEGORIES = {"equipment": "equipment", "subcontract": "work", "space": "space"}
"""Each kind's root of the category tree: the category a new listing of that kind starts in."""
LISTING_MANAGERS = ("owner", "admin")
STAFF = ("moderator", "admin")


def invalid(field: str, message: str) -> Problem:
    return Problem(422, "invalid-field", message, field=field)


def next_status(status: str, action: str) -> str:
    try:
        return MODERATION[(status, action)]
    except KeyError:
        raise Problem(
            409,
            "illegal-transition",
            f"A {status} listing cannot be {action.rstrip('e')}ed.",
            current=status,
            action=action,
        ) from None


def check_version(current: int, seen: int | None) -> None:
    """Optimistic concurrency: an edit made from a stale read would silently undo the changes
    made since, so it is refused; `seen` None (an API client that sends no version) applies."""
    if seen is not None and seen != current:
        raise Problem(
            409,
            "edit-conflict",
            "This listing was changed since you read it: read it again, then apply your changes.",
            current_version=current,
            your_version=seen,
        )


def check_details(kind: str, details: dict[str, Any]) -> dict[str, Any]:
    """Kind-specific fields, with defaults filled in; unknown fields are refused."""
    try:
        parsed = msgspec.convert(details, DETAILS[kind])
    except msgspec.ValidationError as exc:
        raise invalid("details", f"Invalid {kind} details: {exc}") from exc
    result: dict[str, Any] = msgspec.to_builtins(parsed)
    return result


def check_hours(availability: Availability) -> None:
    try:
        validate(availability)
    except InvalidAvailability as exc:
        raise invalid(f"availability.{exc.field}", str(exc)) from exc


def check_pricing(
    price: int, member_price: int | None, currency: str, partner_currency: str
) -> None:
    if currency.upper() != partner_currency:
        raise invalid("currency", f"Prices must be in your business currency, {partner_currency}.")
    if member_price is not None and member_price > price:
        raise invalid("member_price_amount", "A member price cannot exceed the normal price.")


def check_rules(min_minutes: int, max_minutes: int) -> None:
    if min_minutes > max_minutes:
        raise invalid("rules.min_minutes", "The minimum duration exceeds the maximum.")


def bookable(price_amount: int, charges_enabled: bool) -> bool:
    """Free listings need nothing; a paid one needs a business Stripe lets take payments."""
    return price_amount == 0 or charges_enabled


def check_payouts(price_amount: int, charges_enabled: bool) -> None:
    """A paid listing goes to review (or gets its price) only once payouts are connected."""
    if not bookable(price_amount, charges_enabled):
        raise Problem(
            409,
            "payouts-not-enabled",
            "Paid listings need a connected payout account: connect payouts (Billing → Payouts)"
            " and submit again once Stripe has enabled payments, or make the listing free.",
            connect_url="/billing/payouts",
        )


def check_visibility(visibility: str, alliance_ids: Iterable[UUID], mine: set[UUID]) -> None:
    chosen = set(alliance_ids)
    if visibility == "alliance" and not chosen:
        raise invalid("alliance_ids", "Choose at least one alliance to show this listing to.")
    if visibility == "public" and chosen:
        raise invalid("alliance_ids", "Public listings are not limited to alliances.")
    if not chosen <= mine:
        raise invalid("alliance_ids", "You can only share with alliances your business belongs to.")


def can_manage(role: str | None) -> bool:
    return role in LISTING_MANAGERS


def is_staff(platform_role: str | None) -> bool:
    return platform_role in STAFF


def visible(
    *,
    status: str,
    partner_status: str,
    owner: UUID,
    visibility: str,
    shared_with: set[UUID],
    viewer: UUID | None,
    viewer_alliances: set[UUID],
    payable: bool = True,
) -> bool:
    """Owners see their own listings; others only live ones, alliance-only ones when members.
    A paid listing whose business can no longer take payments (`payable` False) is hidden
    like a suspended business's: it could not be booked."""
    if viewer is not None and viewer == owner:
        return True
    if status != "published" or partner_status != "active" or not payable:
        return False
    return visibility == "public" or bool(shared_with & viewer_alliances)
