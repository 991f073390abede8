"""Private iCal feeds: the URL's token is the only credential, so it is shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import select, text, update

from services.booking import domain, repository
from services.booking.ical import CalendarEvent, calendar
from services.booking.models import Booking, CalendarFeed, Resource
from services.booking.routes.common import READ, WRITE, acting, role_of
from services.booking.schemas import FeedIn, FeedOut
from shared.app import DatabaseDep, PrincipalDep, SettingsDep
from shared.db import Database
from shared.errors import NotFound

FEED_PATH = "/api/booking/calendar/"


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


class CalendarController(Controller):
    """Private iCal feeds: the URL's token is the only credential, so it is shown once."""

    tags = ["calendar"]

    @post("/calendar-feeds", status_code=201)
    async def create_feed(
        self,
        data: JSONBody[FeedIn],
        db: DatabaseDep,
        principal: PrincipalDep,
        settings: SettingsDep,
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
        return feed_out(feed, f"{settings.service_url('web')}{FEED_PATH}{tenant}/{token}.ics")

    @get("/calendar-feeds")
    async def feeds(self, db: DatabaseDep, principal: PrincipalDep) -> list[FeedOut]:
        tenant = acting(principal, READ)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            rows = await session.scalars(
                select(CalendarFeed)
                .where(CalendarFeed.tenant_id == tenant)
                .order_by(CalendarFeed.created_at)
            )
            return [feed_out(feed) for feed in rows]

    @delete("/calendar-feeds/{feed_id:uuid}", status_code=204)
    async def revoke_feed(
        self, feed_id: FromPath[UUID], db: DatabaseDep, principal: PrincipalDep
    ) -> None:
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

    @get("/calendar/{tenant_id:uuid}/{token:str}", include_in_schema=False)
    async def feed(
        self, tenant_id: FromPath[UUID], token: FromPath[str], db: DatabaseDep
    ) -> Response[str]:
        """No bearer token: calendar apps cannot send one; the secret URL is the credential."""
        return await _feed(db, tenant_id, token)

    @get("/calendar/{token:str}", include_in_schema=False)
    async def feed_without_tenant(self, token: FromPath[str], db: DatabaseDep) -> Response[str]:
        """Feed URLs handed out before they named their tenant, still subscribed somewhere."""
        return await _feed(db, None, token)


async def _feed(db: Database, tenant_id: UUID | None, token: str) -> Response[str]:
    digest = token_hash(token.removesuffix(".ics"))
    async with db.transaction() as session:
        found = (
            await session.execute(
                text("SELECT tenant_id, resource_id FROM booking.calendar_feed(:tenant, :hash)"),
                {"tenant": tenant_id, "hash": digest},
            )
        ).first()
    if found is None:
        raise NotFound("calendar feed")
    async with db.transaction(tenant_id=found.tenant_id) as session:
        rows = await session.scalars(repository.calendar_query(found.tenant_id, found.resource_id))
        events = [calendar_event(b, found.tenant_id) for b in rows]
    body = calendar("Alliance bookings", events, datetime.now(UTC))
    return Response(body, media_type="text/calendar")


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
