"""Events accounts reacts to: booking news, mailed to the businesses concerned.

Booking knows businesses, not people; accounts knows who runs each business. Each event carries
what the mail says (title, times, an excerpt), so accounts never reads booking's tables. The
owners and admins of the business are mailed, times shown in the business's time zone. The mail
goes out last, inside the transaction that claims the event in the inbox: a failed send rolls
the claim back and the queue retries; a redelivered event finds its claim and mails nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import repository
from services.accounts.config import AccountsConfig
from services.accounts.mail import (
    BookingNotice,
    Mailer,
    booking_when,
    cancelled_notice,
    compose,
    confirmed_notice,
    declined_notice,
    expired_notice,
    mailer_for,
    message_notice,
    reminder_notice,
    request_notice,
)
from services.accounts.models import Tenant
from shared.bus import Handlers
from shared.config import get_settings
from shared.db import act_for
from shared.events import (
    BookingAwaitingAnswer,
    BookingCancelled,
    BookingConfirmed,
    BookingDeclined,
    BookingExpired,
    BookingFacts,
    BookingMessagePosted,
    BookingNote,
    BookingStartingSoon,
)

log = logging.getLogger("alliance.accounts.handlers")

Write = Callable[[str, str], BookingNotice]
"""(the other business's name, when in the reader's time zone) -> the notice."""


@cache
def outlet() -> tuple[AccountsConfig, Mailer]:
    """The worker's mail settings and sender, made once per process like the API's."""
    settings = get_settings()
    config = AccountsConfig.load(settings)
    return config, mailer_for(config.smtp_url, settings.mail_dir)


def link(path: str) -> str:
    return f"{outlet()[0].public_url}{path}"


async def notify(
    session: AsyncSession,
    recipient: UUID,
    other: UUID,
    window: tuple[datetime, datetime],
    write: Write,
    note: BookingNote | None = None,
) -> None:
    """Mail the notice to the recipient business's owners and admins, quoting the other
    business's note on the change if it gave one."""
    config, mailer = outlet()
    await act_for(session, recipient)
    business = await session.get(Tenant, recipient)
    if business is None:
        raise LookupError(f"booking news for unknown business {recipient}")
    counterpart = await session.get(Tenant, other)
    name = counterpart.name if counterpart is not None else "The other business"
    notice = write(name, booking_when(*window, ZoneInfo(business.timezone)))
    if note is not None and note.author_tenant_id == other:
        notice = notice.quoting(name, note.excerpt)
    people = await repository.managers(session, recipient)
    for person in people:
        await mailer.send(compose(config.mail_from, person.email, notice.subject, notice.body))
    log.info(
        "booking news mailed",
        extra={"fields": {"tenant_id": str(recipient), "to": len(people)}},
    )


def _page(booking: BookingFacts) -> str:
    return link(f"/bookings/{booking.booking_id}")


def _title(title: str) -> str:
    return title or "your booking"


Make = Callable[[str, str, str, str], BookingNotice]
"""A booking notice from (other business, title, when, link)."""


async def tell(
    session: AsyncSession,
    booking: BookingFacts,
    recipient: UUID,
    make: Make,
    note: BookingNote | None = None,
) -> None:
    """Mail one side of the booking, naming the other (and quoting its note)."""
    provider, customer = booking.provider_tenant_id, booking.customer_tenant_id
    other = customer if recipient == provider else provider
    title, url = _title(booking.title), _page(booking)
    await notify(
        session,
        recipient,
        other,
        (booking.starts_at, booking.ends_at),
        lambda name, when: make(name, title, when, url),
        note,
    )


async def message_posted(session: AsyncSession, event: BookingMessagePosted, _: datetime) -> None:
    title, url = _title(event.title), link(event.path)
    await notify(
        session,
        event.recipient_tenant_id,
        event.sender_tenant_id,
        (event.starts_at, event.ends_at),
        lambda other, when: message_notice(other, title, when, event.excerpt, url),
    )


async def both_sides(
    session: AsyncSession,
    booking: BookingFacts,
    make: Callable[[str, str, str, str, str], BookingNotice],
    note: BookingNote | None = None,
) -> None:
    """Each side is told, naming the other; `make(other, title, when, role, link)`."""
    for recipient, role in (
        (booking.provider_tenant_id, "provider"),
        (booking.customer_tenant_id, "customer"),
    ):

        def write(other: str, title: str, when: str, url: str, role: str = role) -> BookingNotice:
            return make(other, title, when, role, url)

        await tell(session, booking, recipient, write, note)


async def starting_soon(session: AsyncSession, event: BookingStartingSoon, _: datetime) -> None:
    await both_sides(session, event.booking, reminder_notice)


async def awaiting_answer(session: AsyncSession, event: BookingAwaitingAnswer, _: datetime) -> None:
    await tell(session, event.booking, event.booking.provider_tenant_id, request_notice, event.note)


async def confirmed(session: AsyncSession, event: BookingConfirmed, _: datetime) -> None:
    await both_sides(session, event.booking, confirmed_notice, event.note)


async def declined(session: AsyncSession, event: BookingDeclined, _: datetime) -> None:
    await tell(
        session, event.booking, event.booking.customer_tenant_id, declined_notice, event.note
    )


async def cancelled(session: AsyncSession, event: BookingCancelled, _: datetime) -> None:
    """The side that did not cancel is told; when the platform cancelled (a failed payment),
    the customer, and the provider too if it had already seen the request."""
    booking = event.booking
    by = event.cancelled_by_tenant_id
    told = [t for t in (booking.provider_tenant_id, booking.customer_tenant_id) if t != by]
    if by is None and event.previous_status == "pending_payment":
        told = [booking.customer_tenant_id]
    for recipient in told:
        await tell(
            session,
            booking,
            recipient,
            lambda other, title, when, url: cancelled_notice(
                other, title, when, by is not None, url
            ),
            event.note,
        )


async def expired(session: AsyncSession, event: BookingExpired, _: datetime) -> None:
    unpaid = event.previous_status == "pending_payment"
    await tell(
        session,
        event.booking,
        event.booking.customer_tenant_id,
        lambda other, title, when, url: expired_notice(other, title, when, unpaid, url),
    )


HANDLERS: Handlers = {
    BookingMessagePosted: message_posted,
    BookingStartingSoon: starting_soon,
    BookingAwaitingAnswer: awaiting_answer,
    BookingConfirmed: confirmed,
    BookingDeclined: declined,
    BookingCancelled: cancelled,
    BookingExpired: expired,
}
