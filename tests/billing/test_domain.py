"""Billing's pure rules: fees, the payment state machine, refunds and the double-entry ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.billing import domain
from shared.events import BookingRequested

CUSTOMER, PROVIDER = uuid4(), uuid4()


def test_plans_set_the_fee_and_round_it_down() -> None:
    assert domain.platform_fee(5000, domain.PLAN_FEE_BPS[domain.FREE]) == 500
    assert domain.platform_fee(5000, domain.PLAN_FEE_BPS[domain.PRO]) == 250
    assert domain.platform_fee(999, 500) == 49


def test_payment_state_machine() -> None:
    assert domain.next_status(domain.AWAITING_PAYMENT, "authorize") == domain.AUTHORIZED
    assert domain.next_status(domain.AUTHORIZED, "capture") == domain.CAPTURED
    assert domain.next_status(domain.AUTHORIZED, "release") == domain.RELEASED
    with pytest.raises(domain.IllegalTransition):
        domain.next_status(domain.CAPTURED, "release")
    with pytest.raises(domain.IllegalTransition):
        domain.next_status(domain.RELEASED, "authorize")
    assert domain.refunded_status(5000, 0) == domain.CAPTURED
    assert domain.refunded_status(5000, 2500) == domain.PARTIALLY_REFUNDED
    assert domain.refunded_status(5000, 5000) == domain.REFUNDED


def test_only_unpaid_checkouts_are_checked_and_each_once_per_period() -> None:
    now, every = datetime(2026, 11, 24, 12, tzinfo=UTC), timedelta(minutes=2)
    assert domain.check_due(domain.AWAITING_PAYMENT, now - every, now, every)
    assert not domain.check_due(domain.AWAITING_PAYMENT, now - every / 2, now, every)
    for settled_elsewhere in (domain.AUTHORIZED, domain.CAPTURED, domain.RELEASED, domain.FAILED):
        assert not domain.check_due(settled_elsewhere, now - 10 * every, now, every)


def test_plans_are_checked_while_stripe_owes_news_and_each_once_per_period() -> None:
    now, every = datetime(2026, 11, 24, 12, tzinfo=UTC), timedelta(minutes=2)
    free = {
        "checkout_session_id": None,
        "unpaid_invoice_id": None,
        "subscription_status": None,
        "current_period_end": None,
    }
    pro = {**free, "subscription_status": "active", "current_period_end": now + timedelta(days=9)}

    def due(plan: dict[str, Any], checked_at: datetime) -> bool:
        return domain.plan_check_due(**plan, checked_at=checked_at, now=now, every=every)

    long_ago = now - 10 * every
    assert not due(free, long_ago)
    assert not due(pro, long_ago), "a paid period running: nothing to ask"
    opened = {**free, "checkout_session_id": "cs_open"}
    assert due(opened, now - every)
    assert not due(opened, now - every / 2), "asked less than `every` ago"
    assert due({**pro, "unpaid_invoice_id": "in_open"}, long_ago)
    ended = {**pro, "current_period_end": now - timedelta(hours=1)}
    assert due(ended, long_ago), "renewed or ended: only Stripe knows"
    assert due({**ended, "subscription_status": "past_due"}, long_ago)
    assert not due({**ended, "subscription_status": "canceled"}, long_ago)


def test_refund_follows_the_policy_only_when_booking_knew_it_was_paid() -> None:
    assert domain.refund_due("confirmed", 2500, captured=5000, refunded=0) == 2500
    assert domain.refund_due("confirmed", 0, captured=5000, refunded=0) == 0
    assert domain.refund_due("confirmed", 9000, captured=5000, refunded=1000) == 4000
    assert domain.refund_due("accepted", 0, captured=5000, refunded=0) == 5000


def test_what_stripe_gave_back_is_shared_over_new_refunds() -> None:
    assert domain.split(250, [2500]) == [250]
    assert domain.split(100, [1000, 1000, 1000]) == [33, 33, 34]
    assert domain.split(0, [700, 300]) == [0, 0]


def test_ledger_transactions_balance() -> None:
    capture = domain.capture_entries(CUSTOMER, PROVIDER, 5000, 500, "EUR")
    refund = domain.refund_entries(CUSTOMER, PROVIDER, 2500, 2250, 250, "EUR")
    assert domain.balanced(capture) and domain.balanced(refund)
    totals = domain.balances([*capture, *refund])
    assert totals[(CUSTOMER, "EUR")] == -2500
    assert totals[(PROVIDER, "EUR")] == 4500 - 2250
    assert totals[(None, "EUR")] == 250
    assert sum(totals.values()) == 0
    with pytest.raises(domain.Unbalanced):
        domain.capture_entries(CUSTOMER, PROVIDER, 100, 200, "EUR")
    with pytest.raises(domain.Unbalanced):
        domain.refund_entries(CUSTOMER, PROVIDER, 100, 90, 20, "EUR")


def test_a_refund_that_reverses_nothing_is_the_platforms_cost() -> None:
    entries = domain.refund_entries(CUSTOMER, PROVIDER, 1000, 0, 0, "EUR")
    assert [(e.account, e.amount) for e in entries] == [
        (domain.CUSTOMER, 1000),
        (domain.PLATFORM_REFUND_COSTS, -1000),
    ]


@given(
    amount=st.integers(min_value=1, max_value=10**9),
    bps=st.sampled_from(sorted(domain.PLAN_FEE_BPS.values())),
    refunds=st.lists(st.integers(min_value=1, max_value=10**9), max_size=4),
)
def test_any_capture_and_refunds_leave_balances_summing_to_zero(
    amount: int, bps: int, refunds: list[int]
) -> None:
    """Refunds split as Stripe's `reverse_transfer` and `refund_application_fee` split them."""
    fee = domain.platform_fee(amount, bps)
    entries = domain.capture_entries(CUSTOMER, PROVIDER, amount, fee, "EUR")
    refunded = reversed_ = fee_back = 0
    for wanted in refunds:
        part = min(wanted, amount - refunded)
        if part == 0:
            break
        refunded += part
        last = refunded == amount
        provider = amount - fee - reversed_ if last else round((amount - fee) * part / amount)
        fees = fee - fee_back if last else round(fee * part / amount)
        entries += domain.refund_entries(CUSTOMER, PROVIDER, part, provider, fees, "EUR")
        reversed_, fee_back = reversed_ + provider, fee_back + fees
    totals = domain.balances(entries)
    assert sum(totals.values()) == 0
    if refunded == amount:
        assert totals[(CUSTOMER, "EUR")] == 0 and totals[(PROVIDER, "EUR")] == 0


def test_money_is_formatted_by_currency() -> None:
    assert domain.format_money(4500, "EUR") == "€45.00"
    assert domain.format_money(-320, "usd") == "-$3.20"
    assert domain.format_money(500, "JPY") == "¥500"
    assert domain.format_money(123456, "SEK") == "SEK 1,234.56"


def test_bookings_are_named_by_what_was_booked_even_from_older_events() -> None:
    booking_id = uuid4()
    older = {
        "booking": {
            "booking_id": str(booking_id),
            "customer_tenant_id": str(CUSTOMER),
            "provider_tenant_id": str(PROVIDER),
            "resource_id": str(uuid4()),
            "status": "requested",
            "amount": 5000,
            "currency": "EUR",
            "starts_at": "2030-01-01T10:00:00Z",
            "ends_at": "2030-01-01T12:00:00Z",
            "units": 1,
            "quantity": 1,
            "cancellation_policy": "moderate",
        },
        "instant": False,
    }
    event = msgspec.convert(older, BookingRequested)
    assert event.booking.title == "", "a message from before titles were sent still decodes"
    assert domain.booked_what(event.booking.title, booking_id) == f"Booking {booking_id}"
    assert domain.booked_what("Panel saw", booking_id) == "Panel saw"
