"""Booking HTTP API: availability, quotes, bookings and their lifecycle, threads, reviews, feeds.

Thin handlers: rules live in domain.py, queries and state changes in repository.py. A booking is
visible to its two parties only; any other caller gets 404, as if it did not exist.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.params import Parameter
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking import domain, repository, timers
from services.booking.ical import CalendarEvent, calendar
from services.booking.models import Booking, CalendarFeed, Message, Resource, Review, outbox
from services.booking.schemas import (
    AvailabilityOut,
    BlockIn,
    BookingIn,
    BookingOut,
    BookingPage,
    DecisionIn,
    FeedIn,
    FeedOut,
    MessageIn,
    MessageOut,
    ReviewIn,
    ReviewOut,
    WindowIn,
)
from shared.auth import Principal
from shared.bus import Bus
from shared.config import Settings
from shared.db import Database
from shared.errors import Conflict, NotFound, Problem
from shared.events import ResourceSnapshot, ReviewPosted
from shared.outbox import emit

READ, WRITE = "booking:read", "booking:write"
MAX_RANGE = timedelta(days=92)
FEED_PATH = "/api/booking/calendar/"


def acting(principal: Principal, scope: str) -> UUID:
    """The caller's business, if their token may do `scope` here."""
    if not principal.allows(scope):
        raise Problem(403, "insufficient-scope", f"This API key lacks the {scope} scope.")
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
        created_at=booking.created_at,
    )


def feed_out(feed: CalendarFeed, url: str | None = None) -> FeedOut:
    return FeedOut(
        id=feed.id,
        resource_id=feed.resource_id,
        created_at=feed.created_at,
        revoked_at=feed.revoked_at,
        url=url,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def bookable(
    session: AsyncSession, resource_id: UUID, tenant_id: UUID, window: WindowIn, now: datetime
) -> tuple[ResourceSnapshot, domain.Quote]:
    """The resource and its price, once every rule about who may book what, when, holds."""
    resource, member = await repository.visible_resource(session, resource_id, tenant_id)
    if resource.tenant_id == tenant_id:
        raise Problem(403, "own-resource", "A business cannot book its own resources.")
    if await repository.suspended(session, [tenant_id]):
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
    resource, _ = await repository.visible_resource(session, resource_id, tenant_id)
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


async def create_booking(
    session: AsyncSession, principal: Principal, data: BookingIn, now: datetime
) -> Booking:
    """A new booking for the caller's business, holding its units, its note in the thread."""
    tenant = principal.require_tenant()
    resource, price = await bookable(session, data.resource_id, tenant, data, now)
    status = domain.initial_status(free=price.amount == 0, instant=price.instant)
    booking = Booking(
        tenant_id=resource.tenant_id,
        customer_tenant_id=tenant,
        created_by=principal.user_id,
        resource_id=resource.resource_id,
        kind="booking",
        status=status,
        starts_at=aware(data.start, "start"),
        ends_at=aware(data.end, "end"),
        units=data.units,
        quantity=data.quantity,
        amount=price.amount,
        currency=price.currency,
        member_price=price.member_price,
        instant=price.instant,
        cancellation_policy=price.cancellation_policy,
        title=resource.title,
        expires_at=repository.expiry(status, now),
    )
    await repository.add_booking(session, booking, resource.capacity)
    if data.message:
        session.add(thread_message(booking, principal, tenant, data.message))
    return booking


async def party_change(
    db: Database,
    principal: Principal,
    booking_id: UUID,
    action: str,
    message: str,
    *,
    provider_only: bool,
) -> BookingOut:
    """One party moves a booking on; the note, if any, joins the booking's thread."""
    tenant = acting(principal, WRITE)
    async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
        booking = await repository.booking_of(session, booking_id, tenant, lock=True)
        if provider_only and booking.tenant_id != tenant:
            raise Problem(403, "provider-only", f"Only the provider can {action} a booking.")
        await repository.change(
            session, booking, action, now=datetime.now(UTC), by=tenant, message=message
        )
        if message:
            session.add(thread_message(booking, principal, tenant, message))
        return booking_out(booking, tenant)


def thread_message(booking: Booking, principal: Principal, tenant: UUID, body: str) -> Message:
    # TODO(mail): email the other party; booking knows tenants, not people's addresses, so this
    # waits for accounts to publish a notification contract.
    return Message(
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        customer_tenant_id=booking.customer_tenant_id,
        author_tenant_id=tenant,
        author_user_id=principal.user_id,
        body=body,
    )


class ResourceController(Controller):
    """What a resource offers: free slots, a price for a window, and its provider's blocks."""

    path = "/resources/{resource_id:uuid}"
    tags = ["availability"]

    @get("/availability")
    async def availability(
        self,
        resource_id: UUID,
        db: Database,
        principal: Principal,
        start: Annotated[datetime, Parameter(query="from")],
        end: Annotated[datetime, Parameter(query="to")],
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
        self, resource_id: UUID, data: WindowIn, db: Database, principal: Principal
    ) -> domain.Quote:
        """The price and cancellation rule for a window, before booking it."""
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            _, price = await bookable(session, resource_id, tenant, data, datetime.now(UTC))
        return price

    @post("/blocks", status_code=201)
    async def block(
        self, resource_id: UUID, data: BlockIn, db: Database, principal: Principal
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


class BookingController(Controller):
    path = "/bookings"
    tags = ["bookings"]

    @post("", status_code=201)
    async def book(
        self, data: BookingIn, db: Database, bus: Bus, principal: Principal
    ) -> BookingOut:
        """Book instantly or send a request; paid bookings first wait for their payment."""
        tenant = acting(principal, WRITE)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            booking = await create_booking(session, principal, data, datetime.now(UTC))
        await timers.arm(bus, booking)
        return booking_out(booking, tenant)

    @get("")
    async def bookings(
        self,
        db: Database,
        principal: Principal,
        role: Annotated[str, Parameter(pattern="^(customer|provider)$")] = "customer",
        status: Annotated[str | None, Parameter(pattern=f"^({'|'.join(domain.STATUSES)})$")] = None,
        start: Annotated[datetime | None, Parameter(query="from")] = None,
        end: Annotated[datetime | None, Parameter(query="to")] = None,
        cursor: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
    ) -> BookingPage:
        """My bookings as customer or as provider, by start time; pass `next_cursor` on."""
        tenant = acting(principal, READ)
        query = repository.bookings_query(
            tenant, role, status=status, start=start, end=end, cursor=cursor, limit=limit
        )
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            rows = (await session.scalars(query)).all()
        more = len(rows) == limit
        return BookingPage(
            items=[booking_out(b, tenant) for b in rows],
            next_cursor=repository.encode_cursor(rows[-1]) if more else None,
        )

    @get("/{booking_id:uuid}")
    async def booking(self, booking_id: UUID, db: Database, principal: Principal) -> BookingOut:
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            return booking_out(await repository.booking_of(session, booking_id, tenant), tenant)

    @post("/{booking_id:uuid}/accept", status_code=200)
    async def accept(
        self, booking_id: UUID, data: DecisionIn, db: Database, principal: Principal
    ) -> BookingOut:
        return await party_change(
            db, principal, booking_id, "accept", data.message, provider_only=True
        )

    @post("/{booking_id:uuid}/decline", status_code=200)
    async def decline(
        self, booking_id: UUID, data: DecisionIn, db: Database, principal: Principal
    ) -> BookingOut:
        return await party_change(
            db, principal, booking_id, "decline", data.message, provider_only=True
        )

    @post("/{booking_id:uuid}/cancel", status_code=200)
    async def cancel(
        self, booking_id: UUID, data: DecisionIn, db: Database, principal: Principal
    ) -> BookingOut:
        """Either side; the refund follows the cancellation policy (full if the provider)."""
        return await party_change(
            db, principal, booking_id, "cancel", data.message, provider_only=False
        )

    @get("/{booking_id:uuid}/messages")
    async def messages(
        self, booking_id: UUID, db: Database, principal: Principal
    ) -> list[MessageOut]:
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            await repository.booking_of(session, booking_id, tenant)
            rows = await session.scalars(
                select(Message)
                .where(Message.booking_id == booking_id)
                .order_by(Message.created_at, Message.id)
            )
            return [
                MessageOut(
                    id=m.id,
                    author_tenant_id=m.author_tenant_id,
                    author_user_id=m.author_user_id,
                    body=m.body,
                    created_at=m.created_at,
                )
                for m in rows
            ]

    @post("/{booking_id:uuid}/messages", status_code=201)
    async def post_message(
        self, booking_id: UUID, data: MessageIn, db: Database, principal: Principal
    ) -> MessageOut:
        tenant = acting(principal, WRITE)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            booking = await repository.booking_of(session, booking_id, tenant)
            message = thread_message(booking, principal, tenant, data.body)
            session.add(message)
            await session.flush()
            await session.refresh(message)
            return MessageOut(
                id=message.id,
                author_tenant_id=tenant,
                author_user_id=principal.user_id,
                body=message.body,
                created_at=message.created_at,
            )

    @get("/{booking_id:uuid}/reviews")
    async def reviews(
        self, booking_id: UUID, db: Database, principal: Principal
    ) -> list[ReviewOut]:
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            await repository.booking_of(session, booking_id, tenant)
            rows = await session.scalars(
                select(Review).where(Review.booking_id == booking_id).order_by(Review.created_at)
            )
            return [review_out(r) for r in rows]

    @post("/{booking_id:uuid}/reviews", status_code=201)
    async def review(
        self, booking_id: UUID, data: ReviewIn, db: Database, principal: Principal
    ) -> ReviewOut:
        """Once per side, after completion; directory can build ratings from the event."""
        tenant = acting(principal, WRITE)
        try:
            async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
                booking = await repository.booking_of(session, booking_id, tenant)
                if booking.status != domain.COMPLETED or booking.kind != "booking":
                    raise Conflict(
                        "not-completed",
                        "Review a booking once it is completed.",
                        current_status=booking.status,
                    )
                by_provider = booking.tenant_id == tenant
                review = Review(
                    tenant_id=tenant,
                    booking_id=booking.id,
                    subject_tenant_id=booking.customer_tenant_id
                    if by_provider
                    else booking.tenant_id,
                    subject_role="customer" if by_provider else "provider",
                    resource_id=booking.resource_id,
                    author_user_id=principal.user_id,
                    stars=data.stars,
                    text=data.text,
                )
                session.add(review)
                await session.flush()
                await session.refresh(review)
                await emit(
                    session,
                    outbox,
                    ReviewPosted(
                        review_id=review.id,
                        booking_id=booking.id,
                        resource_id=booking.resource_id,
                        author_tenant_id=tenant,
                        subject_tenant_id=review.subject_tenant_id,
                        subject_role=review.subject_role,
                        stars=review.stars,
                        text=review.text,
                    ),
                    tenant,
                )
                return review_out(review)
        except IntegrityError as exc:
            raise Conflict("already-reviewed", "This side has already reviewed it.") from exc


def review_out(review: Review) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        booking_id=review.booking_id,
        author_tenant_id=review.tenant_id,
        subject_tenant_id=review.subject_tenant_id,
        subject_role=review.subject_role,
        stars=review.stars,
        text=review.text,
        created_at=review.created_at,
    )


class CalendarController(Controller):
    """Private iCal feeds: the URL's token is the only credential, so it is shown once."""

    tags = ["calendar"]

    @post("/calendar-feeds", status_code=201)
    async def create_feed(
        self, data: FeedIn, db: Database, principal: Principal, settings: Settings
    ) -> FeedOut:
        tenant = acting(principal, WRITE)
        token = secrets.token_urlsafe(32)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            if data.resource_id is not None:
                owned = await session.scalar(
                    select(Resource.id).where(
                        Resource.id == data.resource_id, Resource.tenant_id == tenant
                    )
                )
                if owned is None:
                    raise NotFound("resource")
            feed = CalendarFeed(
                tenant_id=tenant, resource_id=data.resource_id, token_hash=token_hash(token)
            )
            session.add(feed)
            await session.flush()
            await session.refresh(feed)
        return feed_out(feed, f"{settings.service_url('web')}{FEED_PATH}{token}.ics")

    @get("/calendar-feeds")
    async def feeds(self, db: Database, principal: Principal) -> list[FeedOut]:
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            rows = await session.scalars(
                select(CalendarFeed)
                .where(CalendarFeed.tenant_id == tenant)
                .order_by(CalendarFeed.created_at)
            )
            return [feed_out(feed) for feed in rows]

    @delete("/calendar-feeds/{feed_id:uuid}", status_code=204)
    async def revoke_feed(self, feed_id: UUID, db: Database, principal: Principal) -> None:
        tenant = acting(principal, WRITE)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            revoked = await session.execute(
                update(CalendarFeed)
                .where(
                    CalendarFeed.tenant_id == tenant,
                    CalendarFeed.id == feed_id,
                    CalendarFeed.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC))
            )
            if revoked.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound("calendar feed")

    @get("/calendar/{token:str}", include_in_schema=False)
    async def feed(self, token: str, db: Database) -> Response[str]:
        """No bearer token: calendar apps cannot send one; the secret URL is the credential."""
        digest = token_hash(token.removesuffix(".ics"))
        async with db.transaction() as session:
            found = (
                await session.execute(
                    text("SELECT tenant_id, resource_id FROM booking.calendar_feed(:hash)"),
                    {"hash": digest},
                )
            ).first()
        if found is None:
            raise NotFound("calendar feed")
        async with db.transaction(tenant_id=found.tenant_id) as session:
            rows = await session.scalars(
                repository.calendar_query(found.tenant_id, found.resource_id)
            )
            events = [calendar_event(b, found.tenant_id) for b in rows]
        body = calendar("Alliance bookings", events, datetime.now(UTC))
        return Response(body, media_type="text/calendar; charset=utf-8")


def calendar_event(booking: Booking, tenant_id: UUID) -> CalendarEvent:
    firm = booking.status in (domain.CONFIRMED, domain.COMPLETED, domain.BLOCKED)
    side = "blocked" if booking.kind == "block" else role_of(booking, tenant_id)
    return CalendarEvent(
        uid=f"{booking.id}@alliance",
        start=booking.starts_at,
        end=booking.ends_at,
        summary=f"{booking.title} ({side})",
        description=f"Status: {booking.status}; units: {booking.units}",
        status="CONFIRMED" if firm else "TENTATIVE",
    )
