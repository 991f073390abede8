"""Booking queries and state changes; each takes the caller's AsyncSession (one transaction)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import msgspec
from sqlalchemy import (
    Exists,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.booking import domain
from services.booking.config import booking_settings
from services.booking.models import (
    AllianceMember,
    Booking,
    BookingUnit,
    Message,
    RequestKey,
    Resource,
    Tenant,
    outbox,
)
from shared.errors import Conflict, NotFound, Problem
from shared.events import (
    BookingAccepted,
    BookingAwaitingAnswer,
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingDeclined,
    BookingExpired,
    BookingFacts,
    BookingMessagePosted,
    BookingNote,
    BookingRequested,
    BookingStartingSoon,
    Event,
    ResourceSnapshot,
)
from shared.outbox import emit

RACE_LOST = {"23P01", "40P01"}
"""Exclusion violation, or the deadlock two inserts of overlapping units can get into while each
waits for the other's verdict (PostgreSQL aborts one): either way, look again and retry."""


class SlotTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("slot-taken", "Not enough units are free in that window any more.")


# Projection -------------------------------------------------------------------------------------


async def listed_resource(session: AsyncSession, resource_id: UUID) -> ResourceSnapshot:
    """The published snapshot of a resource, or 404 when booking does not know it (any more)."""
    row = await session.scalar(select(Resource).where(Resource.id == resource_id, Resource.listed))
    if row is None:
        raise NotFound("resource")
    return msgspec.convert(row.snapshot, ResourceSnapshot)


class View(NamedTuple):
    """A resource as one tenant sees it."""

    resource: ResourceSnapshot
    member: bool
    """The tenant shares one of the resource's alliances: member prices, alliance listings."""
    tenant_suspended: bool


def _suspended(tenant: InstrumentedAttribute[UUID] | UUID) -> Exists:
    return exists().where(Tenant.tenant_id == tenant, Tenant.suspended)


async def visible_resource(session: AsyncSession, resource_id: UUID, tenant_id: UUID) -> View:
    """The resource if the tenant may see it, in one query; alliance-only to outsiders, unlisted
    and suspended providers' resources are 404."""
    alliance_ids = select(
        func.jsonb_array_elements_text(Resource.snapshot["alliance_ids"])
    ).scalar_subquery()
    member = exists().where(
        AllianceMember.tenant_id == tenant_id,
        AllianceMember.status == "member",
        cast(AllianceMember.alliance_id, String).in_(alliance_ids),
    )
    row = (
        await session.execute(
            select(
                Resource.snapshot,
                _suspended(Resource.tenant_id).label("provider_suspended"),
                _suspended(tenant_id).label("tenant_suspended"),
                member.label("member"),
            ).where(Resource.id == resource_id, Resource.listed)
        )
    ).first()
    if row is None or row.provider_suspended:
        raise NotFound("resource")
    resource = msgspec.convert(row.snapshot, ResourceSnapshot)
    if resource.visibility == "alliance" and not row.member and resource.tenant_id != tenant_id:
        raise NotFound("resource")
    return View(resource, row.member, row.tenant_suspended)


# Occupancy --------------------------------------------------------------------------------------


async def occupancy(
    session: AsyncSession, resource_id: UUID, start: datetime, end: datetime
) -> list[tuple[int, datetime, datetime]]:
    """(unit, start, end) held on the resource, whoever holds it (through a definer function:
    the caller's row-level security would hide other customers' bookings)."""
    rows = await session.execute(
        text("SELECT unit, starts_at, ends_at FROM booking.occupancy(:resource, :start, :end)"),
        {"resource": resource_id, "start": start, "end": end},
    )
    return [(row.unit, row.starts_at, row.ends_at) for row in rows]


async def hold_units(session: AsyncSession, booking: Booking, capacity: int) -> None:
    """Give the booking concrete free units; the exclusion constraint settles races.

    Units seen free are tried; if a concurrent booking took one first, the insert fails on the
    constraint, we look again and retry, and report SlotTaken once too few are left.
    """
    for _ in range(capacity + 1):
        held = await occupancy(session, booking.resource_id, booking.starts_at, booking.ends_at)
        taken = {unit for unit, _, _ in held}
        free = [unit for unit in range(1, capacity + 1) if unit not in taken]
        if len(free) < booking.units:
            raise SlotTaken()
        rows = [
            {
                "tenant_id": booking.tenant_id,
                "booking_id": booking.id,
                "unit": unit,
                "customer_tenant_id": booking.customer_tenant_id,
                "resource_id": booking.resource_id,
                "during": Range(booking.starts_at, booking.ends_at, bounds="[)"),
                "status": booking.status,
            }
            for unit in free[: booking.units]
        ]
        try:
            async with session.begin_nested():
                await session.execute(insert(BookingUnit), rows)
            return
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RACE_LOST:
                raise
    raise SlotTaken()


async def add_booking(
    session: AsyncSession, booking: Booking, capacity: int, note: BookingNote | None = None
) -> bool:
    """Insert the booking with its units and announce it (requested, and confirmed or awaiting
    the provider's answer if so). True when one of those events carries the customer's `note`
    to the provider's mail; a paid booking's do not (its note waits until it is paid)."""
    session.add(booking)
    await session.flush()
    await hold_units(session, booking, capacity)
    if booking.kind == "block":
        return False
    await emit(
        session,
        outbox,
        BookingRequested(booking=facts(booking), instant=booking.instant),
        booking.tenant_id,
    )
    news: Event | None = None
    if booking.status == domain.CONFIRMED:
        news = BookingConfirmed(booking=facts(booking), note=note)
    elif booking.status == domain.REQUESTED:
        news = BookingAwaitingAnswer(booking=facts(booking), note=note)
    if news is not None:
        await emit(session, outbox, news, booking.tenant_id)
    return news is not None and note is not None


# Bookings ---------------------------------------------------------------------------------------


def facts(booking: Booking) -> BookingFacts:
    return BookingFacts(
        booking_id=booking.id,
        customer_tenant_id=booking.customer_tenant_id,
        provider_tenant_id=booking.tenant_id,
        resource_id=booking.resource_id,
        status=booking.status,
        amount=booking.amount,
        currency=booking.currency,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        units=booking.units,
        quantity=booking.quantity,
        cancellation_policy=booking.cancellation_policy,
        title=booking.title,
    )


async def party_booking(
    session: AsyncSession, booking_id: UUID, tenant_id: UUID | None = None, *, lock: bool = False
) -> Booking | None:
    """The booking if `tenant_id` (default: the transaction's tenant) is one of its parties."""
    query = select(Booking).where(Booking.id == booking_id)
    if tenant_id is not None:
        query = query.where(
            or_(Booking.tenant_id == tenant_id, Booking.customer_tenant_id == tenant_id)
        )
    if lock:
        query = query.with_for_update()
    booking: Booking | None = await session.scalar(query)
    return booking


async def booking_of(
    session: AsyncSession, booking_id: UUID, tenant_id: UUID, *, lock: bool = False
) -> Booking:
    booking = await party_booking(session, booking_id, tenant_id, lock=lock)
    if booking is None:
        raise NotFound("booking")
    return booking


async def claim_key(
    session: AsyncSession, tenant_id: UUID, key: str, fingerprint: str, booking_id: UUID
) -> UUID | None:
    """Claim the customer's `Idempotency-Key` for the booking `booking_id` about to be made:
    None when it is ours, else the booking an earlier request with that key made.

    The primary key decides between racing requests: a second insert of the key waits for the
    first transaction, then finds its row once it commits (we answer with its booking) or claims
    the key itself once it rolls back (the first request failed and left nothing). The same key
    with another request (`fingerprint`) is refused as 422 `idempotency-key-reused`.
    """
    claimed = await session.scalar(
        pg_insert(RequestKey)
        .values(tenant_id=tenant_id, key=key, fingerprint=fingerprint, booking_id=booking_id)
        .on_conflict_do_nothing()
        .returning(RequestKey.booking_id)
    )
    if claimed is not None:
        return None
    earlier = (
        await session.scalars(
            select(RequestKey).where(RequestKey.tenant_id == tenant_id, RequestKey.key == key)
        )
    ).one()
    if earlier.fingerprint != fingerprint:
        raise Problem(
            422,
            "idempotency-key-reused",
            "This Idempotency-Key was sent with another booking request; use a new key for a"
            " new booking.",
        )
    return earlier.booking_id


def note_of(author: UUID, body: str) -> BookingNote | None:
    """What a change's event carries of the note given with it, if any."""
    return BookingNote(author_tenant_id=author, excerpt=domain.excerpt(body)) if body else None


def expiry(status: str, now: datetime, starts_at: datetime) -> datetime | None:
    """`domain.deadline` with this deployment's hold and request windows."""
    settings = booking_settings()
    return domain.deadline(status, now, starts_at, hold=settings.hold, request=settings.request)


async def change(
    session: AsyncSession,
    booking: Booking,
    action: str,
    *,
    now: datetime,
    by: UUID | None = None,
    message: str = "",
) -> bool:
    """Apply `action` (domain.TRANSITIONS), keep the units' status in step, emit the event.

    An illegal action is a 409 naming the current state, and so is any but `expire` on a hold or
    request past its deadline (`lapsed`); nothing changes. True when the event
    carries `message`, the note of `by`, to the mail the other side gets about the change.
    """
    previous = booking.status
    try:
        domain.check_deadline(previous, action, booking.expires_at, now)
        booking.status = domain.next_status(previous, action, free=booking.amount == 0)
    except domain.Lapsed as exc:
        raise Conflict(
            "lapsed",
            str(exc),
            current_status=previous,
            action=action,
            expires_at=booking.expires_at.isoformat() if booking.expires_at else None,
        ) from exc
    except domain.IllegalTransition as exc:
        raise Conflict(
            "illegal-transition", str(exc), current_status=previous, action=action
        ) from exc
    booking.expires_at = expiry(booking.status, now, booking.starts_at)
    booking.updated_at = now
    if booking.status == domain.CANCELLED:
        refund = domain.refund(
            booking.cancellation_policy,
            domain.charged(previous, booking.amount),
            booking.starts_at,
            now,
            by_provider=by == booking.tenant_id,
        )
        booking.refund_amount, booking.refund_rule = refund.amount, refund.rule
        booking.cancelled_by = by
    await session.execute(
        update(BookingUnit)
        .where(BookingUnit.tenant_id == booking.tenant_id, BookingUnit.booking_id == booking.id)
        .values(status=booking.status)
    )
    if booking.kind != "booking":
        return False
    given = note_of(by, message) if by is not None else None
    event = _event_for(booking, previous, by=by, message=message, note=given)
    if isinstance(event, BookingAwaitingAnswer | BookingConfirmed) and given is None:
        event = msgspec.structs.replace(event, note=await _held_note(session, booking))
    if event is not None:
        await emit(session, outbox, event, booking.tenant_id)
    return given is not None and isinstance(event, NOTED)


async def _held_note(session: AsyncSession, booking: Booking) -> BookingNote | None:
    """The note that waited for this news (`Booking.held_note_id`); it goes out once."""
    if booking.held_note_id is None:
        return None
    held = await session.scalar(
        select(Message).where(
            Message.tenant_id == booking.tenant_id, Message.id == booking.held_note_id
        )
    )
    booking.held_note_id = None
    return note_of(held.author_tenant_id, held.body) if held is not None else None


async def give_note(
    session: AsyncSession,
    booking: Booking,
    author_tenant: UUID,
    author_user: UUID,
    body: str,
    *,
    carried: bool,
) -> None:
    """Put a note given with a change in the thread, mailed once: with the change's news when
    its event `carried` it, else with the news billing's next step brings (the note waits), else
    as a message of its own."""
    waits = not carried and booking.status in domain.AWAITING_BILLING
    message = await post_message(
        session, booking, author_tenant, author_user, body, announce=not (carried or waits)
    )
    if waits:
        booking.held_note_id = message.id


async def post_message(
    session: AsyncSession,
    booking: Booking,
    author_tenant: UUID,
    author_user: UUID,
    body: str,
    *,
    announce: bool = True,
) -> Message:
    """Add to the booking's thread and announce it, so the other business is mailed; not a note
    that the news of a change carries (`give_note`)."""
    message = Message(
        id=uuid.uuid4(),
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        customer_tenant_id=booking.customer_tenant_id,
        author_tenant_id=author_tenant,
        author_user_id=author_user,
        body=body,
    )
    session.add(message)
    if not announce:
        return message
    recipient = (
        booking.customer_tenant_id if author_tenant == booking.tenant_id else booking.tenant_id
    )
    event = BookingMessagePosted(
        message_id=message.id,
        booking_id=booking.id,
        sender_tenant_id=author_tenant,
        recipient_tenant_id=recipient,
        title=booking.title,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        excerpt=domain.excerpt(body),
        path=f"/bookings/{booking.id}#thread",
    )
    await emit(session, outbox, event, booking.tenant_id)
    return message


async def remind(session: AsyncSession, booking: Booking, now: datetime) -> None:
    """Once per booking; a mailer (accounts) or the web UI can act on the event."""
    booking.reminded_at = now
    await emit(session, outbox, BookingStartingSoon(booking=facts(booking)), booking.tenant_id)


NOTED = (BookingAwaitingAnswer, BookingConfirmed, BookingDeclined, BookingCancelled)
"""The events whose mails quote a note given with the change; an accepted paid booking's
(`BookingAccepted`, billing's business) mails nobody, so its note waits for `BookingConfirmed`."""


def _event_for(
    booking: Booking, previous: str, *, by: UUID | None, message: str, note: BookingNote | None
) -> Event | None:
    booking_facts = facts(booking)
    match booking.status:
        case domain.REQUESTED if not booking.instant:  # paid, authorised: now for the provider
            return BookingAwaitingAnswer(booking=booking_facts, note=note)
        case domain.ACCEPTED:
            return BookingAccepted(booking=booking_facts)
        case domain.CONFIRMED:
            return BookingConfirmed(booking=booking_facts, note=note)
        case domain.DECLINED:
            return BookingDeclined(booking=booking_facts, message=message, note=note)
        case domain.EXPIRED:
            return BookingExpired(booking=booking_facts, previous_status=previous)
        case domain.COMPLETED:
            return BookingCompleted(booking=booking_facts)
        case domain.CANCELLED:
            return BookingCancelled(
                booking=booking_facts,
                previous_status=previous,
                cancelled_by_tenant_id=by,
                refund_amount=booking.refund_amount,
                refund_rule=booking.refund_rule or "",
                note=note,
            )
    return None


# Lists ------------------------------------------------------------------------------------------


def encode_cursor(booking: Booking) -> str:
    raw = f"{booking.starts_at.isoformat()}|{booking.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        start, _, booking_id = raw.partition("|")
        return datetime.fromisoformat(start), UUID(booking_id)
    except (ValueError, binascii.Error) as exc:
        raise Problem(400, "bad-cursor", "The cursor is not one this API handed out.") from exc


def bookings_query(
    tenant_id: UUID,
    role: str,
    *,
    status: str | None,
    start: datetime | None,
    end: datetime | None,
    cursor: str | None,
    limit: int,
) -> Select[tuple[Booking]]:
    """Ordered by (start, id) so a cursor stays stable while bookings are added or change."""
    if role == "customer":
        query = select(Booking).where(
            Booking.customer_tenant_id == tenant_id, Booking.kind == "booking"
        )
    else:
        query = select(Booking).where(Booking.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Booking.status == status)
    if start is not None:
        query = query.where(Booking.ends_at > start)
    if end is not None:
        query = query.where(Booking.starts_at < end)
    if cursor is not None:
        after = decode_cursor(cursor)
        query = query.where(tuple_(Booking.starts_at, Booking.id) > after)
    return query.order_by(Booking.starts_at, Booking.id).limit(limit)


def calendar_query(tenant_id: UUID, resource_id: UUID | None) -> Select[tuple[Booking]]:
    """What a feed shows: bookings and blocks that hold time, of one resource or the tenant."""
    parties = (
        and_(Booking.tenant_id == tenant_id, Booking.resource_id == resource_id)
        if resource_id is not None
        else or_(Booking.tenant_id == tenant_id, Booking.customer_tenant_id == tenant_id)
    )
    return (
        select(Booking)
        .where(parties, Booking.status.in_(domain.HOLDING))
        .order_by(Booking.starts_at, Booking.id)
    )
