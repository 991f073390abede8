"""What every booking route shares: scopes, the caller's business, times, the booking's view."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

from services.booking import domain
from services.booking.models import Booking
from services.booking.schemas import BookingOut, RefundPreview
from shared.auth import Principal
from shared.errors import Problem

READ, WRITE = "booking:read", "booking:write"


def acting(principal: Principal, scope: str) -> UUID:
    """The caller's business, if their token may do `scope` here."""
    principal.require_scope(scope)
    return principal.require_tenant()


@contextlib.contextmanager
def invalid_as_problem() -> Iterator[None]:
    try:
        yield
    except domain.InvalidBooking as exc:
        raise Problem(422, "invalid-booking", str(exc), field=exc.field) from exc


def aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise Problem(422, "invalid-booking", "Give times with a UTC offset.", field=field)
    return moment.astimezone(UTC)


def role_of(booking: Booking, tenant_id: UUID) -> str:
    return "provider" if booking.tenant_id == tenant_id else "customer"


def booking_out(booking: Booking, tenant_id: UUID) -> BookingOut:
    return BookingOut(
        id=booking.id,
        kind=booking.kind,
        status=booking.status,
        role=role_of(booking, tenant_id),
        resource_id=booking.resource_id,
        title=booking.title,
        customer_tenant_id=booking.customer_tenant_id,
        provider_tenant_id=booking.tenant_id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        units=booking.units,
        quantity=booking.quantity,
        amount=booking.amount,
        currency=booking.currency,
        member_price=booking.member_price,
        instant=booking.instant,
        cancellation_policy=booking.cancellation_policy,
        expires_at=booking.expires_at,
        refund_amount=booking.refund_amount,
        refund_rule=booking.refund_rule,
        refunded_amount=booking.refunded_amount,
        created_at=booking.created_at,
        refund_if_cancelled=refund_if_cancelled(booking, tenant_id, datetime.now(UTC)),
    )


def refund_if_cancelled(booking: Booking, tenant_id: UUID, now: datetime) -> RefundPreview | None:
    """What `tenant_id` cancelling the booking at `now` would refund, by the rule `cancel`
    applies (`repository.change`), so a cancel dialog can say it; None unless it is a paid
    booking that may be cancelled now."""
    if booking.kind != "booking" or booking.amount == 0:
        return None
    if (booking.status, "cancel") not in domain.TRANSITIONS:
        return None
    try:
        domain.check_deadline(booking.status, "cancel", booking.expires_at, now)
    except domain.Lapsed:
        return None
    charged = domain.charged(booking.status, booking.amount)
    refund = domain.refund(
        booking.cancellation_policy,
        charged,
        booking.starts_at,
        now,
        by_provider=tenant_id == booking.tenant_id,
    )
    return RefundPreview(
        amount=refund.amount,
        charged=charged,
        percent=refund.percent,
        tier=refund.tier,
        rule=refund.rule,
    )
