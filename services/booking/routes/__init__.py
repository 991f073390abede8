"""Booking HTTP API: availability, quotes, bookings and their lifecycle, threads, reviews, feeds.

Thin handlers: rules live in domain.py, queries and state changes in repository.py. A booking is
visible to its two parties only; any other caller gets 404, as if it did not exist.
"""

from services.booking.routes.bookings import BookingController
from services.booking.routes.calendar import CalendarController
from services.booking.routes.resources import ResourceController

__all__ = ["BookingController", "CalendarController", "ResourceController"]
