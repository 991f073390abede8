"""Booking's own settings: how long holds and requests keep their slot, when reminders go."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from functools import cache


@dataclass(frozen=True)
class BookingSettings:
    hold: timedelta
    """An unpaid booking's slot is released after this (the payment never authorised)."""
    request: timedelta
    """A request the provider has not answered expires after this."""
    reminder: timedelta
    """How long before its start a confirmed booking is announced as starting soon."""


@cache
def booking_settings() -> BookingSettings:
    return BookingSettings(
        hold=timedelta(minutes=int(os.environ.get("ALLIANCE_BOOKING_HOLD_MINUTES", "30"))),
        request=timedelta(minutes=int(os.environ.get("ALLIANCE_BOOKING_REQUEST_MINUTES", "2880"))),
        reminder=timedelta(
            minutes=int(os.environ.get("ALLIANCE_BOOKING_REMINDER_MINUTES", "1440"))
        ),
    )
