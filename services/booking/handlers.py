"""Events booking reacts to: its projection of resources, tenants and alliances, and payments.

No call to directory or billing happens on the booking path: what booking needs of them arrives
here and is kept locally. Projections keep the newest version; a late, older event changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import msgspec
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking import repository
from services.booking.models import AllianceMember, Resource, Tenant
from shared.bus import Handlers
from shared.db import act_for
from shared.errors import Conflict
from shared.events import (
    AllianceMembershipChanged,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentFailed,
    PaymentRefunded,
    ResourcePublished,
    ResourceUnpublished,
    ResourceUpdated,
    TenantReinstated,
    TenantSuspended,
)

log = logging.getLogger("alliance.booking.handlers")


async def upsert_resource(
    session: AsyncSession, event: ResourcePublished | ResourceUpdated, occurred_at: datetime
) -> None:
    snapshot = event.resource
    statement = insert(Resource).values(
        tenant_id=snapshot.tenant_id,
        id=snapshot.resource_id,
        version=snapshot.version,
        listed=True,
        snapshot=msgspec.to_builtins(snapshot),
        updated_at=occurred_at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Resource.tenant_id, Resource.id],
            set_={
                key: statement.excluded[key]
                for key in ("version", "listed", "snapshot", "updated_at")
            },
            where=Resource.version < statement.excluded.version,
        )
    )


async def unlist_resource(
    session: AsyncSession, event: ResourceUnpublished, occurred_at: datetime
) -> None:
    """Existing bookings stay; new ones are refused until a newer publication."""
    await session.execute(
        update(Resource)
        .where(
            Resource.tenant_id == event.tenant_id,
            Resource.id == event.resource_id,
            Resource.version <= event.version,
        )
        .values(listed=False, version=event.version, updated_at=occurred_at)
    )


async def set_suspension(
    session: AsyncSession, event: TenantSuspended | TenantReinstated, occurred_at: datetime
) -> None:
    statement = insert(Tenant).values(
        tenant_id=event.tenant_id,
        suspended=isinstance(event, TenantSuspended),
        changed_at=occurred_at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Tenant.tenant_id],
            set_={"suspended": statement.excluded.suspended, "changed_at": occurred_at},
            where=Tenant.changed_at <= statement.excluded.changed_at,
        )
    )


async def set_membership(
    session: AsyncSession, event: AllianceMembershipChanged, occurred_at: datetime
) -> None:
    statement = insert(AllianceMember).values(
        alliance_id=event.alliance_id,
        tenant_id=event.tenant_id,
        status=event.status,
        changed_at=occurred_at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[AllianceMember.alliance_id, AllianceMember.tenant_id],
            set_={"status": statement.excluded.status, "changed_at": occurred_at},
            where=AllianceMember.changed_at <= statement.excluded.changed_at,
        )
    )


PaymentEvent = PaymentAuthorized | PaymentCaptured | PaymentFailed | PaymentRefunded


async def apply_payment(session: AsyncSession, event: PaymentEvent, occurred_at: datetime) -> None:
    """Move the booking on billing's word. A payment event the booking has outgrown (say, an
    authorisation arriving after the hold expired) is logged and dropped: billing learns of the
    expiry from booking's own event and releases the money."""
    payment = event.payment
    await act_for(session, payment.provider_tenant_id)
    booking = await repository.party_booking(session, payment.booking_id, lock=True)
    if booking is None:
        raise LookupError(f"payment for unknown booking {payment.booking_id}")
    now = datetime.now(UTC)
    try:
        match event:
            case PaymentAuthorized():
                booking.payment_id = payment.payment_id
                await repository.change(session, booking, "authorize", now=now)
                if booking.instant:
                    await repository.change(
                        session, booking, "accept", now=now, by=booking.tenant_id
                    )
            case PaymentCaptured():
                await repository.change(session, booking, "capture", now=now)
            case PaymentFailed():
                await repository.change(session, booking, "fail", now=now)
            case PaymentRefunded():
                booking.refunded_amount += event.refunded_amount
    except Conflict:
        log.warning(
            "payment event ignored",
            extra={"fields": {"booking_id": str(booking.id), "status": booking.status}},
        )


HANDLERS: Handlers = {
    ResourcePublished: upsert_resource,
    ResourceUpdated: upsert_resource,
    ResourceUnpublished: unlist_resource,
    TenantSuspended: set_suspension,
    TenantReinstated: set_suspension,
    AllianceMembershipChanged: set_membership,
    PaymentAuthorized: apply_payment,
    PaymentCaptured: apply_payment,
    PaymentFailed: apply_payment,
    PaymentRefunded: apply_payment,
}
