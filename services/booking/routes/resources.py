"""What a resource offers: free slots, a price for a window, and its provider's blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking import domain, repository
from services.booking.models import Booking
from services.booking.routes.common import (
    READ,
    WRITE,
    acting,
    aware,
    booking_out,
    invalid_as_problem,
)
from services.booking.schemas import AvailabilityOut, BlockIn, BookingOut, WindowIn
from shared.app import DatabaseDep, PrincipalDep
from shared.errors import NotFound, Problem
from shared.events import ResourceSnapshot

MAX_RANGE = timedelta(days=92)


async def bookable(
    session: AsyncSession, resource_id: UUID, tenant_id: UUID, window: WindowIn, now: datetime
) -> tuple[ResourceSnapshot, domain.Quote]:
    """The resource and its price, once every rule about who may book what, when, holds."""
    resource, member, suspended = await repository.visible_resource(session, resource_id, tenant_id)
    if resource.tenant_id == tenant_id:
        raise Problem(403, "own-resource", "A business cannot book its own resources.")
    if suspended:
        raise Problem(403, "tenant-suspended", "A suspended business cannot book.")
    start, end = aware(window.start, "start"), aware(window.end, "end")
    with invalid_as_problem():
        domain.check_window(resource, start, end, window.units, window.quantity, now)
    return resource, domain.quote(
        resource, start, end, window.units, window.quantity, member=member
    )


async def availability_of(
    session: AsyncSession, resource_id: UUID, tenant_id: UUID, start: datetime, end: datetime
) -> AvailabilityOut:
    resource = (await repository.visible_resource(session, resource_id, tenant_id)).resource
    held = await repository.occupancy(session, resource_id, start, end)
    slots = domain.free_slots(
        resource.availability,
        resource.rules,
        resource.capacity,
        [(s, e, 1) for _, s, e in held],
        start,
        end,
        datetime.now(UTC),
    )
    return AvailabilityOut(
        resource_id=resource_id,
        timezone=resource.availability.timezone,
        capacity=resource.capacity,
        slots=slots,
    )


class ResourceController(Controller):
    """What a resource offers: free slots, a price for a window, and its provider's blocks."""

    path = "/resources/{resource_id:uuid}"
    tags = ["availability"]

    @get("/availability")
    async def availability(
        self,
        resource_id: FromPath[UUID],
        db: DatabaseDep,
        principal: PrincipalDep,
        start: Annotated[datetime, QueryParameter(name="from")],
        end: Annotated[datetime, QueryParameter(name="to")],
    ) -> AvailabilityOut:
        """Free slots in [from, to), at most 92 days, after lead time, with free units each."""
        tenant = acting(principal, READ)
        start, end = aware(start, "from"), aware(end, "to")
        if not timedelta(0) < end - start <= MAX_RANGE:
            raise Problem(422, "invalid-range", "Ask for up to 92 days, `to` after `from`.")
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            return await availability_of(session, resource_id, tenant, start, end)

    @post("/quote", status_code=200)
    async def quote(
        self,
        resource_id: FromPath[UUID],
        data: JSONBody[WindowIn],
        db: DatabaseDep,
        principal: PrincipalDep,
    ) -> domain.Quote:
        """The price and cancellation rule for a window, before booking it."""
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            _, price = await bookable(session, resource_id, tenant, data, datetime.now(UTC))
        return price

    @post("/blocks", status_code=201)
    async def block(
        self,
        resource_id: FromPath[UUID],
        data: JSONBody[BlockIn],
        db: DatabaseDep,
        principal: PrincipalDep,
    ) -> BookingOut:
        """The provider keeps units for itself; cancel the block to release them."""
        tenant = acting(principal, WRITE)
        start, end = aware(data.start, "start"), aware(data.end, "end")
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            resource = await repository.listed_resource(session, resource_id)
            if resource.tenant_id != tenant:
                raise NotFound("resource")
            with invalid_as_problem():
                if end <= start:
                    raise domain.InvalidBooking("end", "The end must come after the start.")
                if data.units > resource.capacity:
                    raise domain.InvalidBooking("units", f"At most {resource.capacity} units.")
            booking = Booking(
                tenant_id=tenant,
                customer_tenant_id=tenant,
                created_by=principal.user_id,
                resource_id=resource_id,
                kind="block",
                status=domain.BLOCKED,
                starts_at=start,
                ends_at=end,
                units=data.units,
                quantity=1,
                amount=0,
                currency=resource.currency,
                member_price=False,
                instant=True,
                cancellation_policy=resource.rules.cancellation_policy,
                title=resource.title,
            )
            await repository.add_booking(session, booking, resource.capacity)
            return booking_out(booking, tenant)
