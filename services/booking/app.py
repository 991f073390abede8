"""The booking service: availability, bookings and their lifecycle, threads, reviews, calendars."""

from __future__ import annotations

from litestar import Litestar

from services.booking.models import outbox
from services.booking.routes import BookingController, CalendarController, ResourceController
from shared.app import create_service_app
from shared.config import Settings


def create_app(settings: Settings | None = None) -> Litestar:
    return create_service_app(
        "booking",
        [ResourceController, BookingController, CalendarController],
        outbox=outbox,
        description="Bookings, availability and their lifecycle.",
        settings=settings,
    )
