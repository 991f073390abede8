"""Billing rules without I/O: plans and fees, the payment state machine, refunds, the ledger.

Money is integer minor units plus a currency. The ledger is double-entry: every movement is a
transaction whose entries sum to zero per currency, so balances derived from it (per tenant,
for the platform) always sum to zero too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from shared.money import decimal

# Plans ----------------------------------------------------------------------------------------

FREE, PRO = "free", "pro"
PLAN_FEE_BPS: Mapping[str, int] = {FREE: 1000, PRO: 500}
"""Platform fee per plan in basis points of the booking's amount (10% on Free, 5% on Pro)."""
PRO_MONTHLY_AMOUNT, PRO_MONTHLY_CURRENCY = 2900, "eur"
"""The Pro subscription's monthly price."""


def platform_fee(amount: int, fee_bps: int) -> int:
    """The platform's share of `amount`, rounded down so the provider never loses a cent."""
    return amount * fee_bps // 10_000


STATEMENT_MAX_PERIOD = timedelta(days=366)
"""The longest period one statement covers (a year, leap day included); the earnings page
checks the dates people pick against it too."""


# Payments -------------------------------------------------------------------------------------

AWAITING_PAYMENT = "awaiting_payment"
AUTHORIZED = "authorized"
CAPTURED = "captured"
RELEASED = "released"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"
FAILED = "failed"

TRANSITIONS: Mapping[tuple[str, str], str] = {
    (AWAITING_PAYMENT, "authorize"): AUTHORIZED,
    (AWAITING_PAYMENT, "release"): RELEASED,
    (AWAITING_PAYMENT, "fail"): FAILED,
    (AUTHORIZED, "capture"): CAPTURED,
    (AUTHORIZED, "release"): RELEASED,
    (AUTHORIZED, "fail"): FAILED,
}
"""(status, action) -> next status; refunds move a captured payment by amount (see `refunded`)."""
SETTLED = (RELEASED, REFUNDED, FAILED)
"""Nothing more happens to a payment in these states."""


class IllegalTransition(Exception):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"Cannot {action} a payment that is {status}.")


def next_status(status: str, action: str) -> str:
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise IllegalTransition(status, action)
    return target


def check_due(status: str, checked_at: datetime, now: datetime, every: timedelta) -> bool:
    """Whether to ask Stripe about a payment now, in case its webhooks never came: only an
    unpaid checkout waits on Stripe's news alone (booking's events settle the other states, and
    each of those asks Stripe itself), and only once `every` has passed since we last heard."""
    return status == AWAITING_PAYMENT and checked_at <= now - every


ACTIVE_SUBSCRIPTION = ("active", "trialing", "past_due")
"""Subscription states that keep a business on Pro (Stripe still collects a past-due one)."""


def plan_check_due(
    *,
    checkout_session_id: str | None,
    unpaid_invoice_id: str | None,
    subscription_status: str | None,
    current_period_end: datetime | None,
    checked_at: datetime,
    now: datetime,
    every: timedelta,
) -> bool:
    """Whether to ask Stripe about a plan now, in case its webhooks never come: while an upgrade's
    checkout is open, while its latest invoice is unpaid, and once its paid period is over (only
    Stripe knows whether it renewed or ended); each once `every` has passed since we last asked.
    `billing.plans_to_check` selects the same plans in SQL."""
    over = (
        subscription_status in ACTIVE_SUBSCRIPTION
        and current_period_end is not None
        and current_period_end <= now
    )
    waiting = checkout_session_id is not None or unpaid_invoice_id is not None or over
    return waiting and checked_at <= now - every


PAYOUT_ACCOUNT_MISSING = "payout-account-missing"
"""Problem type of a payment whose destination, the provider's Stripe account, Stripe no longer
has; the same type the provider gets for their payout account."""
PAYOUT_ACCOUNT_MISSING_DETAIL = (
    "The provider's payout account no longer exists at Stripe, so this booking cannot be paid"
    " and was cancelled; nothing was charged."
)


def refunded_status(captured: int, refunded: int) -> str:
    if refunded <= 0:
        return CAPTURED
    return REFUNDED if refunded >= captured else PARTIALLY_REFUNDED


def refund_due(
    previous_booking_status: str, policy_refund: int, captured: int, refunded: int
) -> int:
    """What to refund when a booking is cancelled.

    Booking computes the policy's refund only for confirmed bookings (it knows the money was
    captured); if billing captured before booking heard of it, nothing was meant to be kept,
    so everything captured goes back.
    """
    refundable = max(captured - refunded, 0)
    if previous_booking_status != "confirmed":
        return refundable
    return min(max(policy_refund, 0), refundable)


def split(total: int, amounts: list[int]) -> list[int]:
    """Share `total` over refunds of `amounts` in proportion; the last takes what rounding left.

    Stripe reports what it reversed from the provider and refunded of the fee as running totals
    per charge, so refunds not recorded yet share the growth of those totals.
    """
    whole = sum(amounts)
    shares, left = [], total
    for index, amount in enumerate(amounts):
        share = left if index == len(amounts) - 1 else min(total * amount // whole, left)
        shares.append(share)
        left -= share
    return shares


# Ledger ---------------------------------------------------------------------------------------

CUSTOMER = "customer"
"""What a business paid for bookings (negative: money out of its pocket)."""
PROVIDER = "provider"
"""What a business earned from bookings, net of the platform fee."""
PLATFORM_FEES = "platform_fees"
SUBSCRIBER = "subscriber"
"""What a business paid for its plan."""
PLATFORM_SUBSCRIPTIONS = "platform_subscriptions"
PLATFORM_REFUND_COSTS = "platform_refund_costs"
"""What the platform refunded without taking it back from the provider or its fee (a refund made
in Stripe's dashboard without reversing the transfer, or a cent of rounding)."""
PLATFORM_ACCOUNTS = (PLATFORM_FEES, PLATFORM_SUBSCRIPTIONS, PLATFORM_REFUND_COSTS)


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    party: UUID | None
    """The tenant whose account it is; None for the platform."""
    amount: int
    currency: str


class Unbalanced(ValueError):
    pass


def balanced(entries: Iterable[Entry]) -> bool:
    totals: dict[str, int] = {}
    for entry in entries:
        totals[entry.currency] = totals.get(entry.currency, 0) + entry.amount
    return all(total == 0 for total in totals.values())


def _checked(entries: list[Entry]) -> list[Entry]:
    if not entries or not balanced(entries):
        raise Unbalanced(f"entries do not sum to zero: {entries}")
    return [e for e in entries if e.amount != 0]


def capture_entries(
    customer: UUID, provider: UUID, amount: int, fee: int, currency: str
) -> list[Entry]:
    """The customer pays `amount`; the provider earns it less the fee the platform keeps."""
    if not 0 <= fee <= amount:
        raise Unbalanced("the fee must lie between 0 and the amount")
    return _checked(
        [
            Entry(account=CUSTOMER, party=customer, amount=-amount, currency=currency),
            Entry(account=PROVIDER, party=provider, amount=amount - fee, currency=currency),
            Entry(account=PLATFORM_FEES, party=None, amount=fee, currency=currency),
        ]
    )


def refund_entries(
    customer: UUID, provider: UUID, amount: int, provider_back: int, fee_back: int, currency: str
) -> list[Entry]:
    """`amount` goes back to the customer: `provider_back` from the provider (the transfer
    reversal), `fee_back` from the platform's fee, and the platform bears the difference
    (a cent of Stripe's rounding either way, or all of a refund that reversed nothing)."""
    if provider_back < 0 or fee_back < 0 or provider_back + fee_back > amount + 1:
        raise Unbalanced("the provider's and the fee's shares must lie within the refund")
    return _checked(
        [
            Entry(account=CUSTOMER, party=customer, amount=amount, currency=currency),
            Entry(account=PROVIDER, party=provider, amount=-provider_back, currency=currency),
            Entry(account=PLATFORM_FEES, party=None, amount=-fee_back, currency=currency),
            Entry(
                account=PLATFORM_REFUND_COSTS,
                party=None,
                amount=-(amount - provider_back - fee_back),
                currency=currency,
            ),
        ]
    )


def subscription_entries(subscriber: UUID, amount: int, currency: str) -> list[Entry]:
    return _checked(
        [
            Entry(account=SUBSCRIBER, party=subscriber, amount=-amount, currency=currency),
            Entry(account=PLATFORM_SUBSCRIPTIONS, party=None, amount=amount, currency=currency),
        ]
    )


Balances = dict[tuple[UUID | None, str], int]
"""(tenant or None for the platform, currency) -> balance."""


def balances(entries: Iterable[Entry]) -> Balances:
    result: Balances = {}
    for entry in entries:
        key = (entry.party, entry.currency)
        result[key] = result.get(key, 0) + entry.amount
    return result


# Presentation -----------------------------------------------------------------------------------

SYMBOLS: Mapping[str, str] = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF ", "jpy": "¥"}


def format_money(amount: int, currency: str) -> str:
    """Locale-neutral: `€45.00`, `-$3.20`, `¥500`, `SEK 1,234.56`."""
    code = currency.lower()
    sign = "-" if amount < 0 else ""
    number = decimal(abs(amount), code, grouped=True)
    return f"{sign}{SYMBOLS.get(code, code.upper() + ' ')}{number}"


def booked_what(title: str, booking_id: UUID) -> str:
    """How receipts, statements and Checkout name a booking: by what was booked, when known."""
    return title or f"Booking {booking_id}"
