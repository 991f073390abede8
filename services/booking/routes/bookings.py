"""Bookings: make one, list mine, move it through its states, its thread and its reviews."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID, uuid4

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import (
    FromPath,
    FromQuery,
    HeaderParameter,
    JSONBody,
    PathParameter,
    QueryParameter,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking import domain, repository, timers
from services.booking.models import Booking, Message, Review, outbox
from services.booking.routes.common import (
    READ,
    WRITE,
    acting,
    aware,
    booking_out,
    invalid_as_problem,
)
from services.booking.routes.resources import bookable
from services.booking.schemas import (
    BookingIn,
    BookingOut,
    BookingPage,
    DecisionIn,
    MessageIn,
    MessageOut,
    ReviewIn,
    ReviewOut,
)
from shared.app import BusDep, DatabaseDep, PrincipalDep
from shared.auth import Principal
from shared.db import Database
from shared.errors import Conflict, Problem
from shared.events import ReviewPosted
from shared.outbox import emit


async def create_booking(
    session: AsyncSession,
    principal: Principal,
    data: BookingIn,
    now: datetime,
    *,
    key: str | None = None,
) -> tuple[Booking, bool]:
    """A new booking for the caller's business, holding its units, its note in the thread (mailed
    with the provider's first news of it), and True; or, when the request's Idempotency-Key
    (`key`) already made a booking, that booking as it is now and False."""
    tenant = principal.require_tenant()
    booking_id = uuid4()
    if key is not None:
        earlier = await repository.claim_key(session, tenant, key, data.fingerprint(), booking_id)
        if earlier is not None:
            return await repository.booking_of(session, earlier, tenant), False
    resource, price = await bookable(session, data.resource_id, tenant, data, now)
    status = domain.initial_status(free=price.amount == 0, instant=price.instant)
    booking = Booking(
        id=booking_id,
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
        expires_at=repository.expiry(status, now, aware(data.start, "start")),
    )
    noted = await repository.add_booking(
        session, booking, resource.capacity, repository.note_of(tenant, data.message)
    )
    if data.message:
        await repository.give_note(
            session, booking, tenant, principal.user_id, data.message, carried=noted
        )
    return booking, True


async def party_change(
    db: Database,
    principal: Principal,
    booking_id: UUID,
    action: str,
    message: str,
    *,
    provider_only: bool,
) -> BookingOut:
    """One party moves a booking on; the note, if any, joins the booking's thread and is mailed
    once, with the news of the change."""
    tenant = acting(principal, WRITE)
    async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
        booking = await repository.booking_of(session, booking_id, tenant, lock=True)
        if provider_only and booking.tenant_id != tenant:
            raise Problem(403, "provider-only", f"Only the provider can {action} a booking.")
        noted = await repository.change(
            session, booking, action, now=datetime.now(UTC), by=tenant, message=message
        )
        if message:
            await repository.give_note(
                session, booking, tenant, principal.user_id, message, carried=noted
            )
        return booking_out(booking, tenant)


IDEMPOTENCY_KEY = "^[!-~]{1,255}$"
"""1 to 255 visible ASCII characters, as Stripe takes them."""
REPLAYED = "Idempotent-Replayed"


class BookingController(Controller):
    path = "/bookings"
    tags = ["bookings"]

    @post(
        "",
        status_code=201,
        response_headers=[
            ResponseHeader(
                name=REPLAYED,
                description="`true` when an earlier request with this Idempotency-Key made"
                " the booking",
                documentation_only=True,
            )
        ],
    )
    async def book(
        self,
        data: JSONBody[BookingIn],
        db: DatabaseDep,
        bus: BusDep,
        principal: PrincipalDep,
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                pattern=IDEMPOTENCY_KEY,
                description="Any unique string (a UUID) per booking the caller means to make:"
                " requests sent again with it make nothing more and answer with its booking.",
            ),
        ] = None,
    ) -> Response[BookingOut]:
        """Book instantly or send a request; paid bookings first wait for their payment. Under an
        `Idempotency-Key` the booking is made once, however often the request is sent."""
        tenant = acting(principal, WRITE)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            booking, created = await create_booking(
                session, principal, data, datetime.now(UTC), key=idempotency_key
            )
        if created:
            await timers.arm(bus, booking)
        replayed = {} if created else {REPLAYED: "true"}
        return Response(booking_out(booking, tenant), status_code=201, headers=replayed)

    @get("")
    async def bookings(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        role: Annotated[str, QueryParameter(pattern="^(customer|provider)$")] = "customer",
        status: Annotated[
            str | None, QueryParameter(pattern=f"^({'|'.join(domain.STATUSES)})$")
        ] = None,
        start: Annotated[datetime | None, QueryParameter(name="from")] = None,
        end: Annotated[datetime | None, QueryParameter(name="to")] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> BookingPage:
        """My bookings as customer or as provider, by start time; pass `next_cursor` on (None
        on the last page: one row beyond the page is read to know, so no page comes back empty)."""
        tenant = acting(principal, READ)
        query = repository.bookings_query(
            tenant, role, status=status, start=start, end=end, cursor=cursor, limit=limit + 1
        )
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            found = (await session.scalars(query)).all()
        rows, more = found[:limit], len(found) > limit
        return BookingPage(
            items=[booking_out(b, tenant) for b in rows],
            next_cursor=repository.encode_cursor(rows[-1]) if more else None,
        )

    @get("/{booking_id:uuid}")
    async def booking(
        self, booking_id: FromPath[UUID], db: DatabaseDep, principal: PrincipalDep
    ) -> BookingOut:
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            return booking_out(await repository.booking_of(session, booking_id, tenant), tenant)

    @post("/{booking_id:uuid}/{action:str}", status_code=200)
    async def decide(
        self,
        booking_id: FromPath[UUID],
        action: Annotated[str, PathParameter(pattern="^(accept|decline|cancel)$")],
        data: JSONBody[DecisionIn],
        db: DatabaseDep,
        principal: PrincipalDep,
    ) -> BookingOut:
        """`accept` or `decline` (the provider), or `cancel` (either side; the refund follows the
        cancellation policy, in full when the provider cancels). The note joins the thread."""
        return await party_change(
            db, principal, booking_id, action, data.message, provider_only=action != "cancel"
        )

    @get("/{booking_id:uuid}/messages")
    async def messages(
        self, booking_id: FromPath[UUID], db: DatabaseDep, principal: PrincipalDep
    ) -> list[MessageOut]:
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            await repository.booking_of(session, booking_id, tenant)
            rows = await session.scalars(
                select(Message)
                .where(Message.booking_id == booking_id)
                .order_by(Message.created_at, Message.id)
            )
            return [message_out(m) for m in rows]

    @post("/{booking_id:uuid}/messages", status_code=201)
    async def post_message(
        self,
        booking_id: FromPath[UUID],
        data: JSONBody[MessageIn],
        db: DatabaseDep,
        principal: PrincipalDep,
    ) -> MessageOut:
        tenant = acting(principal, WRITE)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            booking = await repository.booking_of(session, booking_id, tenant)
            with invalid_as_problem():
                body = domain.message_body(data.body)
            message = await repository.post_message(
                session, booking, tenant, principal.user_id, body
            )
            await session.flush()
            return message_out(message)

    @get("/{booking_id:uuid}/reviews")
    async def reviews(
        self, booking_id: FromPath[UUID], db: DatabaseDep, principal: PrincipalDep
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
        self,
        booking_id: FromPath[UUID],
        data: JSONBody[ReviewIn],
        db: DatabaseDep,
        principal: PrincipalDep,
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


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        author_tenant_id=message.author_tenant_id,
        author_user_id=message.author_user_id,
        body=message.body,
        created_at=message.created_at,
    )


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
